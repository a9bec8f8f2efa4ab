/**
 * The analysis report: what `layerwise analyze --json` prints. docs/analyze-schema.json is its JSON
 * Schema and docs/analyze.md explains every figure; bump ANALYZE_SCHEMA_VERSION on breaking changes.
 */
export const ANALYZE_SCHEMA_VERSION = 1;

/** Where a finding or a package came from: a layer, the history step that made it, the Dockerfile line. */
export interface Attribution {
  layer: number;
  step: string;
  /** 1-based line in the Dockerfile given with --dockerfile, when the step could be matched. */
  line?: number;
}

export interface LayerReport extends Attribution {
  /** The history entry's created_by, verbatim. */
  createdBy: string;
  digest: string;
  diffId: string;
  /** Blob size as stored and shipped (compressed). */
  compressedBytes: number;
  /** Size of the uncompressed tar. */
  tarBytes: number;
  /** Sum of regular-file sizes the layer stores. */
  fileBytes: number;
  entries: number;
  empty: boolean;
  /** Non-directory paths new to the filesystem, replaced from lower layers, and deleted from lower layers. */
  added: { files: number; bytes: number };
  modified: { files: number; bytes: number };
  removed: { files: number; bytes: number };
  /** Bytes this layer stores that later layers hide (overwrite or delete). */
  wastedBytes: number;
  /** The largest paths behind added, modified and removed (up to `top` each, largest first). */
  changes: { added: PathBytes[]; modified: PathBytes[]; removed: PathBytes[] };
}

export type FindingKind = 'waste' | 'junk' | 'toolchain' | 'duplicate';

export interface PathBytes {
  path: string;
  bytes: number;
}

export interface Finding extends Attribution {
  /** Stable identifier of the rule: "waste.deleted", "junk.apt-lists", "toolchain", "duplicate". */
  rule: string;
  kind: FindingKind;
  /** One line: what is wrong, with the step and its size. */
  title: string;
  /** The concrete change that removes the cost. */
  fix: string;
  /** Bytes the finding is about. */
  bytes: number;
  /** Estimated bytes saved by the fix (never counts bytes another finding already counts). */
  savings: number;
  /** The largest paths involved (up to 10). */
  paths: PathBytes[];
  /** For waste: the layer whose change hid the bytes. */
  hiddenBy?: Attribution;
  /** For toolchain findings: the packages involved. */
  packages?: string[];
}

export interface DuplicateCopy {
  path: string;
  layer: number;
  /** Whether this copy is visible in the final filesystem (hidden copies are counted as waste). */
  visible: boolean;
}

export interface DuplicateGroup {
  size: number;
  /** xxh64 of the content, 16 hex digits. */
  hash: string;
  copies: DuplicateCopy[];
  /** (copies - 1) * size: bytes stored beyond one copy. */
  extraBytes: number;
  /** (visible copies - 1) * size: what hardlinking or removing the visible extras saves. */
  visibleExtraBytes: number;
}

export type PackageEcosystem = 'dpkg' | 'python' | 'npm' | 'apk';

export interface PackageReport extends Attribution {
  ecosystem: PackageEcosystem;
  name: string;
  version: string;
  /** Bytes of the package's files as visible in the final filesystem. */
  bytes: number;
  files: number;
  /** Where its metadata lives (RECORD, .list file, package.json, database). */
  source: string;
}

export interface AnalyzeTotals {
  layers: number;
  compressedBytes: number;
  tarBytes: number;
  /** Sum of regular-file sizes over all layers (every stored copy). */
  storedBytes: number;
  /** Sum of regular-file sizes visible in the final filesystem. */
  finalBytes: number;
  finalFiles: number;
  /** storedBytes - finalBytes: bytes in lower layers hidden by upper layers. See docs/analyze.md. */
  wastedBytes: number;
  /** 100 * wastedBytes / storedBytes (a percentage), 0 when nothing is stored. */
  wastedPercent: number;
  /** finalBytes / storedBytes, 1 when nothing is stored. */
  efficiency: number;
  duplicateBytes: number;
  junkBytes: number;
  /** Sum of every finding's savings. */
  potentialSavings: number;
}

export interface AnalyzeReport {
  schemaVersion: number;
  reference: string;
  imageId: string;
  manifestDigest: string;
  platform: string;
  dockerfile?: string;
  /** Globs whose paths were left out of waste, junk and duplicate figures. */
  ignored: string[];
  totals: AnalyzeTotals;
  layers: LayerReport[];
  findings: Finding[];
  duplicates: DuplicateGroup[];
  largestFiles: (PathBytes & { layer: number })[];
  largestDirs: PathBytes[];
  packages: PackageReport[];
}
