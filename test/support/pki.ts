/**
 * A throw-away PKI for TLS tests, made with the openssl command: a CA, a controller
 * certificate and a switch certificate signed by it, and a stranger signed by another CA.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface Pki {
  readonly ca: string;
  readonly ctlCert: string; readonly ctlKey: string;
  readonly swCert: string; readonly swKey: string;
  readonly strangerCert: string; readonly strangerKey: string;
}

function run(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

function issue(dir: string, name: string, caName: string): void {
  run(dir, 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  run(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', 'san.cnf');
}

export function makePki(dir: string): Pki {
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\n" > san.cnf'], { cwd: dir });
  for (const ca of ['ca', 'otherca']) {
    run(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=${ca}`);
  }
  issue(dir, 'controller', 'ca');
  issue(dir, 'switch', 'ca');
  issue(dir, 'stranger', 'otherca');
  const p = (f: string) => path.join(dir, f);
  return {
    ca: p('ca.pem'), ctlCert: p('controller.pem'), ctlKey: p('controller.key'),
    swCert: p('switch.pem'), swKey: p('switch.key'), strangerCert: p('stranger.pem'), strangerKey: p('stranger.key'),
  };
}
