const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** A size as people read it: `512 bytes`, `3.4 KiB`, `64 MiB`, `2.5 GiB` (one decimal, none when whole). */
export function formatBytes(n: number): string {
  const at = (unit: number, name: string) => `${+(n / unit).toFixed(1)} ${name}`;
  if (n >= GiB) return at(GiB, 'GiB');
  if (n >= MiB) return at(MiB, 'MiB');
  if (n >= KiB) return at(KiB, 'KiB');
  return `${n} byte${n === 1 ? '' : 's'}`;
}
