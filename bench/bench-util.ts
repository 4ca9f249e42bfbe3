// Shared measuring helpers: every figure is printed beside a baseline from the same run.
import os from 'node:os';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** value ÷ the baseline's value in the same run (for time: lower is better) */
  ratio?: number;
  note?: string;
}

export async function timeIt<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

export function formatTable(title: string, results: BenchResult[]): string {
  const rows = results.map((r) => {
    const value = r.value >= 100 ? r.value.toFixed(0) : r.value.toFixed(2);
    const ratio = r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`;
    return `| ${r.name} | ${value} ${r.unit} | ${ratio} | ${r.note ?? ''} |`;
  });
  return [`### ${title}`, '', '| what | measured | ratio to baseline | note |', '|---|---|---|---|', ...rows, ''].join('\n');
}
