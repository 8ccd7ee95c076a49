// Per-process CPU and memory from Linux /proc, read by the runner around each
// measured window. Missing files (process gone, not Linux) yield null.

/** Clock ticks per second for utime/stime; 100 on every Linux we target. */
export const CLK_TCK = 100;

/** utime + stime in ticks from the text of /proc/<pid>/stat. */
export function parseStatTicks(stat: string): number {
  // comm (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`unparsable /proc stat: ${stat.slice(0, 80)}`);
  }
  return utime + stime;
}

/** A "VmRSS:   1234 kB" style field of /proc/<pid>/status, in KiB. */
export function parseStatusKiB(status: string, field: string): number | null {
  const m = status.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m"));
  return m?.[1] === undefined ? null : Number(m[1]);
}

export async function cpuTicks(pid: number): Promise<number | null> {
  try {
    return parseStatTicks(await Deno.readTextFile(`/proc/${pid}/stat`));
  } catch {
    return null;
  }
}

export interface Memory {
  rssKiB: number | null;
  hwmKiB: number | null;
}

export async function memory(pid: number): Promise<Memory> {
  try {
    const s = await Deno.readTextFile(`/proc/${pid}/status`);
    return {
      rssKiB: parseStatusKiB(s, "VmRSS"),
      hwmKiB: parseStatusKiB(s, "VmHWM"),
    };
  } catch {
    return { rssKiB: null, hwmKiB: null };
  }
}

/** CPU use between two tick readings as a percentage of one core. */
export function cpuPercent(
  before: number | null,
  after: number | null,
  seconds: number,
): number | null {
  if (before === null || after === null || seconds <= 0) return null;
  return Math.round(((after - before) / CLK_TCK / seconds) * 1000) / 10;
}

/** What the report says about the machine the numbers came from. */
export async function machine(): Promise<string> {
  let model = "unknown CPU";
  let mem = "?";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    model = info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? model;
    const kib = parseStatusKiB(
      await Deno.readTextFile("/proc/meminfo"),
      "MemTotal",
    );
    if (kib !== null) mem = String(Math.round(kib / 2 ** 20));
  } catch { /* not Linux: /proc is absent */ }
  const cores = navigator.hardwareConcurrency;
  return `${cores} cores (${model}), ${mem} GiB RAM, ${Deno.build.os}`;
}

/** The 1-minute load average, or "?" off Linux. */
export async function loadAverage(): Promise<string> {
  const text = await Deno.readTextFile("/proc/loadavg").catch(() => "?");
  return text.split(" ")[0] ?? "?";
}
