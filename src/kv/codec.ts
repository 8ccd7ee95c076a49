/**
 * The log entry encoding of {@link KvCommand}: compact JSON. Entry data
 * comes back from disk and from peers, so decoding is a gateway: it checks
 * the shape and throws on anything else, and the state machine then trusts
 * the types. Values stay JSON text (strings) and are not parsed here.
 * @module
 */
import type { Compare, KeyRange, KvCommand, TxnOp } from "./types.ts";

/** Thrown by {@link decodeCommand} for data that is not a KvCommand. */
export class CommandDecodeError extends Error {
  override name = "CommandDecodeError";
}

/** Encodes a command as entry data. */
export function encodeCommand(cmd: KvCommand): string {
  return JSON.stringify(cmd);
}

/**
 * Decodes entry data written by {@link encodeCommand}.
 * @throws {CommandDecodeError} when `data` is not a well-formed command.
 */
export function decodeCommand(data: string): KvCommand {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    throw new CommandDecodeError("Cannot decode command: not JSON");
  }
  const o = obj(raw, "command");
  switch (o.type) {
    case "put":
      return decodePut(o);
    case "delete":
      return {
        type: "delete",
        key: str(o.key, "key"),
        ...optInt(o.ifModIndex, "ifModIndex"),
      };
    case "deleteRange":
      return { type: "deleteRange", range: decodeRange(o.range) };
    case "txn":
      return {
        type: "txn",
        compare: arr(o.compare, "compare").map(decodeCompare),
        success: arr(o.success, "success").map(decodeTxnOp),
        failure: arr(o.failure, "failure").map(decodeTxnOp),
      };
    default:
      throw new CommandDecodeError(
        `Cannot decode command of type ${JSON.stringify(o.type)}`,
      );
  }
}

function decodePut(o: Record<string, unknown>): KvCommand {
  const cmd: {
    type: "put";
    key: string;
    value: string;
    ifModIndex?: number;
    ifAbsent?: boolean;
    prev?: boolean;
  } = { type: "put", key: str(o.key, "key"), value: str(o.value, "value") };
  if (o.ifModIndex !== undefined) cmd.ifModIndex = int(o.ifModIndex, "ifModIndex");
  if (o.ifAbsent !== undefined) cmd.ifAbsent = bool(o.ifAbsent, "ifAbsent");
  if (o.prev !== undefined) cmd.prev = bool(o.prev, "prev");
  return cmd;
}

function decodeRange(raw: unknown): KeyRange {
  const o = obj(raw, "range");
  const end = o.end === null ? null : str(o.end, "range.end");
  return { start: str(o.start, "range.start"), end };
}

const TARGETS = new Set(["value", "version", "modIndex", "createIndex"]);
const OPS = new Set(["==", "!=", "<", ">"]);

function decodeCompare(raw: unknown): Compare {
  const o = obj(raw, "compare");
  const key = str(o.key, "compare.key");
  if (!OPS.has(o.op as string)) fail("compare.op");
  const op = o.op as Compare["op"];
  if (o.target === "exists") {
    return { key, target: "exists", op, value: bool(o.value, "value") };
  }
  if (!TARGETS.has(o.target as string)) fail("compare.target");
  const target = o.target as Compare["target"];
  const value = target === "value" ? str(o.value, "compare.value") : num(o.value, "compare.value");
  return { key, target, op, value };
}

function decodeTxnOp(raw: unknown): TxnOp {
  const o = obj(raw, "txn op");
  const key = str(o.key, "op.key");
  switch (o.op) {
    case "put":
      return { op: "put", key, value: str(o.value, "op.value") };
    case "delete":
      return { op: "delete", key };
    case "get":
      return { op: "get", key };
    default:
      return fail("op.op");
  }
}

function fail(what: string): never {
  throw new CommandDecodeError(`Cannot decode command: bad ${what}`);
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(what);
  return v as Record<string, unknown>;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(what);
  return v;
}

function str(v: unknown, what: string): string {
  return typeof v === "string" ? v : fail(what);
}

function bool(v: unknown, what: string): boolean {
  return typeof v === "boolean" ? v : fail(what);
}

function num(v: unknown, what: string): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fail(what);
}

function int(v: unknown, what: string): number {
  return Number.isSafeInteger(v) ? v as number : fail(what);
}

function optInt(v: unknown, what: string): { ifModIndex?: number } {
  return v === undefined ? {} : { ifModIndex: int(v, what) };
}
