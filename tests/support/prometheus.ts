/** @module Reads Prometheus text exposition strictly, for tests of `/metrics`. */

/** A strict enough reader of the Prometheus text format: every line a comment or a sample. */
export function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})?) (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/
        .exec(line);
    if (m === null) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    samples.set(m[1]!, Number(m[5]));
  }
  return samples;
}
