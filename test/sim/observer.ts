/**
 * What the cluster reports to the invariant checker, at the moment it
 * happens (the checker never has to diff whole logs).
 * @module
 */
import type { Entry, HardState, ReadState, Ready, Snapshot } from "../../src/raft/mod.ts";
import type { SimNode } from "./cluster.ts";

export interface ClusterObserver {
  /** A Ready was taken; the node's storage holds everything before it. */
  onReady(node: SimNode, rd: Ready): void;
  /** A snapshot was installed into storage and the state machine. */
  onRestore(node: SimNode, snap: Snapshot): void;
  /** A hard state became durable. */
  onPersist(node: SimNode, hs: HardState): void;
  /** An entry was applied to the node's state machine. */
  onApply(node: SimNode, e: Entry): void;
  /** The core handed out a read state (its index is now fixed). */
  onReadState(node: SimNode, rs: ReadState): void;
  /** A read state was answered: the state machine reached its index. */
  onReadServed(node: SimNode, rs: ReadState): void;
  onCrash(node: SimNode): void;
  onRestart(node: SimNode): void;
}

const nop = (): void => {};

export const NO_OBSERVER: ClusterObserver = {
  onReady: nop,
  onRestore: nop,
  onPersist: nop,
  onApply: nop,
  onReadState: nop,
  onReadServed: nop,
  onCrash: nop,
  onRestart: nop,
};
