// "10s", "500ms", "2m" or a bare number of seconds -> seconds.

export function parseSeconds(v: string): number {
  const m = v.trim().match(/^(\d+(?:\.\d+)?)(ms|s|m)?$/);
  if (!m) throw new Error(`bad duration ${v} (use e.g. 10s, 500ms, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return unit === "ms" ? n / 1000 : unit === "m" ? n * 60 : n;
}
