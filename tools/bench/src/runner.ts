/**
 * Runs a ceiling and its product side `reps` times, interleaved and in
 * alternating order (C P, P C, C P…), so both share the machine's drift and
 * neither always runs first. Each side returns its named figures for one
 * repetition; the result holds one array per figure and side.
 */
export async function interleave<M extends Record<string, number>, C extends Record<string, number> = M>(options: {
  reps: number;
  product: (rep: number) => Promise<M>;
  ceiling?: (rep: number) => Promise<C>;
  log?: (message: string) => void;
  label?: string;
}): Promise<{ product: M[]; ceiling: C[] }> {
  const product: M[] = [];
  const ceiling: C[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    const order: ('product' | 'ceiling')[] = rep % 2 === 0 ? ['ceiling', 'product'] : ['product', 'ceiling'];
    for (const side of order) {
      if (side === 'ceiling') {
        if (!options.ceiling) continue;
        const figures = await options.ceiling(rep);
        ceiling.push(figures);
        options.log?.(`${options.label ?? ''} rep ${rep + 1}/${options.reps} ceiling ${format(figures)}`);
      } else {
        const figures = await options.product(rep);
        product.push(figures);
        options.log?.(`${options.label ?? ''} rep ${rep + 1}/${options.reps} product ${format(figures)}`);
      }
    }
  }
  return { product, ceiling };
}

const format = (figures: Record<string, number>): string =>
  Object.entries(figures)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`)
    .join(' ');

/** One figure of every repetition. */
export const pick = <M extends Record<string, number>>(runs: M[], key: keyof M): number[] => runs.map((r) => r[key] as number);

/**
 * Several sides measured in the same window: each repetition runs every
 * side once, the order rotated by one per repetition, so no side always
 * runs first (a warm machine) or last. Returns each side's figures in
 * repetition order, so side A's rep i pairs with side B's rep i.
 */
export async function rotate<M extends Record<string, number>, S extends string = string>(options: {
  reps: number;
  sides: Record<S, (rep: number) => Promise<M>>;
  log?: (message: string) => void;
  label?: string;
}): Promise<Record<S, M[]>> {
  const names = Object.keys(options.sides) as S[];
  const figures = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<S, M[]>;
  for (let rep = 0; rep < options.reps; rep++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(rep + k) % names.length]!;
      const measured = await options.sides[name]!(rep);
      figures[name]!.push(measured);
      options.log?.(`${options.label ?? ''} rep ${rep + 1}/${options.reps} ${name} ${format(measured)}`);
    }
  }
  return figures;
}
