// What this process may hold, as the kernel says in /proc.
import { readFileSync } from 'node:fs';

/** The soft limit on open descriptors, or null when there is none (or /proc cannot say). */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The range local ports are taken from (ip_local_port_range), or null when /proc cannot say. */
export function ephemeralPorts(): { first: number; last: number } | null {
  try {
    const [first, last] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(first) && Number.isInteger(last) ? { first: first!, last: last! } : null;
  } catch {
    return null;
  }
}
