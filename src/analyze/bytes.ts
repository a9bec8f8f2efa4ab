// Sizes in finding titles are printed exactly as the CLI prints them.
export { formatBytes } from '../text/bytes.js';
