// `tessera prune <run>`: a pruned (and optionally fine-tuned) copy of a trained run, as a new run
// directory, with the before/after report (src/prune/run.ts).
import { type Command, InvalidArgumentError } from 'commander';

import { pruneRun, type PruneReport, type PruneRunOptions } from '../prune/run.js';

function numberIn(flag: string, lo: number, hi: number, o: { integer?: boolean; open?: boolean } = {}) {
  return (v: string): number => {
    const n = Number(v);
    const inside = o.open ? n > lo && n < hi : n >= lo && n <= hi;
    if (!Number.isFinite(n) || !inside || (o.integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`${flag} must be ${o.integer ? 'an integer' : 'a number'} ${o.open ? 'between' : 'from'} ${lo} ${o.open ? 'and' : 'to'} ${hi}${o.open ? ' (exclusive)' : ''}`);
    return n;
  };
}

/** What commander hands the action: the library's options by the same names, and --json. */
type PruneFlags = Pick<PruneRunOptions, 'amount' | 'structured' | 'finetuneEpochs' | 'finetuneLr' | 'name' | 'threads'> & { json?: boolean };

export function registerPruneCommand(program: Command): void {
  program
    .command('prune <run>')
    .description("prune a trained run's model (global magnitude masks, or whole channels with --structured), optionally fine-tune it, and save it as a new run with a before/after report")
    .requiredOption('--amount <x>', 'fraction to prune: of all conv/linear weights, or with --structured of every prunable group of channels', numberIn('--amount', 0, 1, { open: true }))
    .option('--structured', 'remove whole channels (a smaller, faster dense model) instead of zeroing single weights')
    .option('--finetune-epochs <n>', 'fine-tune on the run\'s training split after pruning (default 0)', numberIn('--finetune-epochs', 0, 10_000, { integer: true }))
    .option('--finetune-lr <x>', 'fine-tuning learning rate (default: a tenth of the run\'s)', numberIn('--finetune-lr', 0, 1e3, { open: true }))
    .option('--name <name>', 'the new run\'s directory, beside the run (default <run>-pruned)')
    .option('--threads <n>', 'LibTorch threads (default: every core)', numberIn('--threads', 1, 1024, { integer: true }))
    .option('--json', 'print the report as JSON')
    .action(async (run: string, flags: PruneFlags) => {
      const report = await pruneRun(run, {
        amount: flags.amount,
        ...(flags.structured ? { structured: true } : {}),
        ...(flags.finetuneEpochs !== undefined ? { finetuneEpochs: flags.finetuneEpochs } : {}),
        ...(flags.finetuneLr !== undefined ? { finetuneLr: flags.finetuneLr } : {}),
        ...(flags.name !== undefined ? { name: flags.name } : {}),
        ...(flags.threads ? { threads: flags.threads } : {}),
        log: (line) => console.error(line),
        progressStream: process.stderr,
      });
      console.log(flags.json ? JSON.stringify(report, null, 2) : formatPruneReport(report, flags.threads));
    });
}

/** The before/after table `tessera prune` prints. */
export function formatPruneReport(r: PruneReport, threads?: number): string {
  const count = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));
  const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
  // A timing on a busy machine (or of zeroed weights, which dense kernels still compute) can come
  // out the other way: say so rather than print "0.9× faster".
  const speed = (a: number, b: number) => (a >= b ? `${(a / b).toFixed(2)}× faster` : `${(b / a).toFixed(2)}× slower`);
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const row = (label: string, a: string, b: string, note: string) => `${label.padEnd(22)}${a.padStart(11)}${b.padStart(11)}   ${note}`;
  const ratio = (a: number, b: number) => `${(b / a).toFixed(2)}×`;
  const { before, after } = r;
  const drop = after.accuracy - before.accuracy;
  const what = r.method === 'channels'
    ? `${(r.amount * 100).toFixed(0)}% of the channels of ${r.channels?.pruned.length} groups removed`
    : `${(r.amount * 100).toFixed(0)}% of the conv and linear weights zeroed (global magnitude)`;
  const lines = [
    `wrote ${r.dir} (${what})`,
    row('', 'before', 'after', ''),
    row('parameters', count(before.parameters), count(after.parameters), ratio(before.parameters, after.parameters)),
    row('non-zero parameters', count(before.nonzeroParameters), count(after.nonzeroParameters), ratio(before.nonzeroParameters, after.nonzeroParameters)),
    row('multiply-adds / image', count(before.multiplyAdds), count(after.multiplyAdds), `${ratio(before.multiplyAdds, after.multiplyAdds)}${r.method === 'global-magnitude' ? ' (dense kernels compute the zeros too)' : ''}`),
    ...before.latency.map((l, i) => {
      const a = after.latency[i] as (typeof after.latency)[number];
      return row(`latency, batch ${l.batch}`, ms(l.medianMs), ms(a.medianMs), `${speed(l.medianMs, a.medianMs)} (Tessera, ${threads ? `${threads} thread${threads === 1 ? '' : 's'}` : 'every core'}, median of ${l.runs})`);
    }),
    row('top-1 accuracy', pct(before.accuracy), pct(after.accuracy), `${drop >= 0 ? '+' : '−'}${Math.abs(drop * 100).toFixed(2)} points on the ${r.measuredOn.split} split (${r.measuredOn.samples} images)`),
    r.finetune
      ? `${pct(r.prunedAccuracy)} right after pruning; fine-tuned ${r.finetune.epochs} epoch${r.finetune.epochs === 1 ? '' : 's'} at lr ${r.finetune.lr}`
      : `not fine-tuned (--finetune-epochs N recovers accuracy on the run's training split)`,
  ];
  // The logits' group is always kept (the classes are the classes): only say what else was.
  const kept = (r.channels?.kept ?? []).filter((k) => k.producers.length > 0 && !(k.producers.length === 1 && k.reason === "the model's output"));
  if (kept.length) lines.push(`kept whole: ${kept.map((k) => `${k.size} channels of ${k.producers.join(', ')} (${k.reason})`).join('; ')}`);
  return lines.join('\n');
}
