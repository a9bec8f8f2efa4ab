/**
 * The key two names share when a case-insensitive or normalisation-insensitive filesystem (macOS, Windows)
 * would store them as one file: "A" and "a", "é" precomposed and "e" + combining accent. Linux keeps them
 * apart and real images have such pairs (man7/PAM.7.gz beside the pam.7.gz symlink in Debian), so a
 * collision alone is not refused; a write through a symlink is refused under this key too (node-tar's
 * CVE-2021-37712 was a symlink reached through another case).
 */
export function foldName(path: string): string {
  return path.normalize('NFC').toLowerCase().normalize('NFC');
}
