/** One challenge from a WWW-Authenticate header (RFC 7235): `Bearer realm="...",service="...",scope="..."`. */
export interface Challenge {
  /** Lowercased: "bearer", "basic". */
  scheme: string;
  /** Parameter names lowercased, values unquoted. */
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate value, which may hold several challenges (Node joins repeated headers with
 * ", "). A token not followed by "=" starts a new challenge; everything else is a parameter of the
 * current one.
 */
export function parseChallenges(value: string | undefined): Challenge[] {
  if (!value) return [];
  const out: Challenge[] = [];
  let i = 0;
  const n = value.length;
  const skipSpace = () => {
    while (i < n && (value[i] === ' ' || value[i] === '\t' || value[i] === ',')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && !/[\s,=]/.test(value[i]!)) i++;
    return value.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipSpace();
    if (i >= n) break;
    const word = token();
    if (!word) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && (value[j] === ' ' || value[j] === '\t')) j++;
    if (value[j] === '=' && current) {
      i = j + 1;
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
      let v = '';
      if (value[i] === '"') {
        i++;
        while (i < n && value[i] !== '"') {
          if (value[i] === '\\' && i + 1 < n) i++;
          v += value[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < n && value[i] !== ',') i++;
        v = value.slice(start, i).trim();
      }
      current.params[word.toLowerCase()] = v;
    } else if (value[j] === '=' && !current) {
      // A parameter with no scheme before it: malformed, skip its value.
      i = j + 1;
      while (i < n && value[i] !== ',') i++;
    } else {
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** The challenge layerwise acts on: Bearer when offered, else Basic. */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
}
