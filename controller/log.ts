/** Structured logs (pino, JSON lines on stderr). `NFVNODE_LOG=debug|info|warn|error|silent`. */
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(name: string, level = process.env.NFVNODE_LOG ?? 'info'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}

/** A logger that drops everything (tests that assert on behaviour, not logs). */
export const silentLogger: Logger = pino({ level: 'silent' });
