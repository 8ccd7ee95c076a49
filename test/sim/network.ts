/**
 * A seeded, in-memory network. Messages wait in one queue; the scheduler
 * decides when they move. Faults: random drop and duplication at send,
 * reordering and delay at delivery (a random message instead of the oldest),
 * directed link cuts (asymmetric partitions), node isolation and heal.
 * A cut link drops what crosses it at delivery time, so a partition also
 * catches messages already in flight.
 * @module
 */
import type { Message, NodeId } from "../../src/raft/mod.ts";
import type { SimRand } from "./rng.ts";

/** Fault rates in [0, 1]; all zero is a perfect FIFO network. */
export interface NetworkFaults {
  /** A sent message is lost. */
  drop: number;
  /** A sent message arrives twice. */
  duplicate: number;
  /** Delivery takes a random queued message instead of the oldest. */
  reorder: number;
  /** A sent message is held back and arrives much later (stale). */
  delay: number;
}

export const NO_FAULTS: NetworkFaults = {
  drop: 0,
  duplicate: 0,
  reorder: 0,
  delay: 0,
};

/** Chance that a delivery releases a held-back message instead. */
const RELEASE = 0.02;

/** What became of one message taken off the queue. */
export interface Delivery {
  readonly msg: Message;
  /** False when a cut link swallowed it. */
  readonly delivered: boolean;
}

/** Queued messages beyond this are dropped oldest first (congestion). */
const MAX_QUEUE = 1000;

export class Network {
  faults: NetworkFaults = { ...NO_FAULTS };
  #queue: Message[] = [];
  /** Held-back messages, released one at a time at random. */
  #held: Message[] = [];
  #cut = new Set<string>();
  /** Messages matching any of these are lost at delivery (a firewall rule). */
  #ignored: ((m: Message) => boolean)[] = [];
  #rand: SimRand;

  constructor(rand: SimRand) {
    this.#rand = rand;
  }

  /** Messages in flight, held-back ones included. */
  get size(): number {
    return this.#queue.length + this.#held.length;
  }

  /** Enqueues messages, losing or duplicating some per `faults`. */
  send(msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (this.#rand.chance(this.faults.drop)) continue;
      if (this.#rand.chance(this.faults.delay)) this.#held.push(m);
      else this.#queue.push(m);
      if (this.#rand.chance(this.faults.duplicate)) this.#queue.push(m);
    }
    if (this.#queue.length > MAX_QUEUE) {
      this.#queue.splice(0, this.#queue.length - MAX_QUEUE);
    }
  }

  /** Takes the next message off the queue, or null when it is empty. */
  next(): Delivery | null {
    const held = this.#held.length > 0 &&
      (this.#queue.length === 0 || this.#rand.chance(RELEASE));
    const from = held ? this.#held : this.#queue;
    if (from.length === 0) return null;
    const i = held || this.#rand.chance(this.faults.reorder) ? this.#rand.int(from.length) : 0;
    const msg = from.splice(i, 1)[0] as Message;
    const lost = this.isCut(msg.from, msg.to) ||
      this.#ignored.some((f) => f(msg));
    return { msg, delivered: !lost };
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.#cut.has(linkKey(from, to));
  }

  /** Cuts the directed link `from -> to` (an asymmetric partition). */
  cut(from: NodeId, to: NodeId): void {
    this.#cut.add(linkKey(from, to));
  }

  /** Cuts every link between `a` and `b` in both directions. */
  cutBetween(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cut(x, y);
        this.cut(y, x);
      }
    }
  }

  /** Cuts `id` off from every node in `all`. */
  isolate(id: NodeId, all: readonly NodeId[]): void {
    this.cutBetween([id], all.filter((x) => x !== id));
  }

  /** Loses every message matching `f` until `heal()` (etcd `ignore`). */
  ignore(f: (m: Message) => boolean): void {
    this.#ignored.push(f);
  }

  /** Restores every link and stops random faults. */
  heal(): void {
    this.#cut.clear();
    this.#ignored = [];
    this.faults = { ...NO_FAULTS };
  }

  get hasCuts(): boolean {
    return this.#cut.size > 0 || this.#ignored.length > 0;
  }

  /** A crash loses the messages in flight to and from `id`. */
  dropNode(id: NodeId): void {
    const keep = (m: Message) => m.from !== id && m.to !== id;
    this.#queue = this.#queue.filter(keep);
    this.#held = this.#held.filter(keep);
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
