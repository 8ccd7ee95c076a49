/**
 * Value interning for the register model: values anything reads or compares
 * get ids (the rest are ANON), and every observation pairs a value with the
 * modIndex that wrote it, in both directions; a pair that contradicts an
 * earlier one is an anomaly.
 * @module
 */

import { canonical, type Compare, type Op } from "./history.ts";
import { INVALID } from "./search.ts";

/** No record. */
export const ABSENT = -1;
/** A value no op reads or compares: all such values behave alike. */
export const ANON = 0;

/** A compare against the state: equal to a value id, or exists / not. */
export type Cmp = { eq: number } | { exists: boolean };

export interface Anomaly {
  readonly message: string;
  readonly ops: readonly Op[];
}

/** Value interning, the modIndex <-> value maps and their anomalies. */
export class Values {
  readonly anomalies: Anomaly[] = [];
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];
  readonly #writers = new Map<string, number>();
  readonly #modToVal = new Map<number, { text: string; op: Op }>();
  readonly #valToMod = new Map<string, { mod: number; op: Op }>();

  constructor(ops: readonly Op[], context: readonly Op[]) {
    for (const op of context) {
      if (op.f !== "put" && op.f !== "cas") continue;
      const t = canonical(op.value);
      this.#writers.set(t, (this.#writers.get(t) ?? 0) + 1);
    }
    for (const op of context) this.#observe(op);
    for (const op of ops) this.#reference(op);
  }

  /** A value's state: its id if anything reads or compares it, else ANON. */
  stateOf(text: string): number {
    return this.#ids.get(text) ?? ANON;
  }

  ids(): number[] {
    return this.#names.map((_, i) => i + 1);
  }

  writers(state: number): number {
    return this.#writers.get(this.#names[state - 1] ?? "") ?? 0;
  }

  cmpOf(c: Compare): Cmp {
    if (c.target === "exists") return { exists: c.value };
    if (c.target === "value") return { eq: this.#intern(canonical(c.value)) };
    const text = this.#modToVal.get(c.value)?.text;
    return { eq: text === undefined ? INVALID : this.#intern(text) };
  }

  /** The modIndex of a write: its own answer, else what reads saw. */
  modOfWrite(op: Op): number {
    if (op.f === "put" && op.result) return op.result.modIndex;
    if (op.f === "cas" && op.result?.modIndex) return op.result.modIndex;
    if (op.f !== "put" && op.f !== "cas") return 0;
    const t = canonical(op.value);
    return this.#writers.get(t) === 1 ? this.#valToMod.get(t)?.mod ?? 0 : 0;
  }

  describe(s: number): string {
    if (s === ABSENT) return "absent";
    if (s === ANON) return "a value no op observed";
    return this.#names[s - 1] ?? `state ${s}`;
  }

  #intern(text: string): number {
    let id = this.#ids.get(text);
    if (id === undefined) {
      this.#names.push(text);
      id = this.#names.length;
      this.#ids.set(text, id);
    }
    return id;
  }

  #reference(op: Op): void {
    if (op.f === "get" && op.result?.found) {
      this.#intern(canonical(op.result.value));
    }
    if (op.f === "cas") this.cmpOf(op.compare);
  }

  #observe(op: Op): void {
    if (op.status !== "ok") return;
    if (op.f === "get" && op.result?.found) {
      this.#pair(canonical(op.result.value), op.result.modIndex, op);
    } else if (op.f === "put" && op.result) {
      this.#pair(canonical(op.value), op.result.modIndex, op);
    } else if (op.f === "cas" && op.result?.modIndex) {
      this.#pair(canonical(op.value), op.result.modIndex, op);
    }
  }

  #pair(text: string, mod: number, op: Op): void {
    const byMod = this.#modToVal.get(mod);
    if (byMod && byMod.text !== text) {
      this.anomalies.push({
        message: `modIndex ${mod} names two values: ${byMod.text} and ${text}`,
        ops: [byMod.op, op],
      });
    } else if (!byMod) this.#modToVal.set(mod, { text, op });
    const byVal = this.#valToMod.get(text);
    if (byVal && byVal.mod !== mod && this.#writers.get(text) === 1) {
      this.anomalies.push({
        message: `value ${text} (written once) seen at modIndex ` +
          `${byVal.mod} and ${mod}`,
        ops: [byVal.op, op],
      });
    } else if (!byVal) this.#valToMod.set(text, { mod, op });
  }
}
