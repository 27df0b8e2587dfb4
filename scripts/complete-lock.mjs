// Adds lock entries for optional platform packages that the registry this project installs from
// does not carry (it mirrors only some of @napi-rs/canvas's prebuilt binaries). `npm install` leaves
// them out of package-lock.json, and `npm ci` then refuses the lock as out of sync. An entry with its
// os/cpu/libc is enough: npm never fetches an optional package built for another platform.
// Run after `npm install` changes dependencies: node scripts/complete-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const platform = (name) => {
  const m = /-(android|darwin|linux|win32)-(x64|arm64|arm|riscv64)(?:-(gnu|gnueabihf|musl|msvc))?$/.exec(name);
  if (!m) return null;
  const libc = m[3] === 'musl' ? ['musl'] : m[3]?.startsWith('gnu') ? ['glibc'] : undefined;
  return { os: [m[1]], cpu: [m[2]], ...(libc ? { libc } : {}) };
};
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    const where = platform(dep);
    if (lock.packages[key] || !where || !/^\d+\.\d+\.\d+$/.test(version)) continue;
    lock.packages[key] = { version, ...where, optional: true };
    added++;
    console.log(`added ${key}@${version} (${JSON.stringify(where)}) for ${path || 'the project'}`);
  }
}
// npm puts the entries in its own order at the next install; the order does not matter to npm ci.
writeFileSync('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
console.log(`${added} entries added`);
