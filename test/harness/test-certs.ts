import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Certificates made for one test run with openssl: a server CA and a server certificate valid only
 * for `serverName` (not for 127.0.0.1, so a client must override the name it checks), a client CA
 * with a client certificate it signed, and a rogue client certificate signed by a CA nobody trusts.
 */
export interface TestCertificates {
  dir: string;
  serverName: string;
  serverCa: string;
  serverCert: string;
  serverKey: string;
  clientCa: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
  /** The files' contents, for servers that take PEM text. */
  pem(path: string): string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ca(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

function leaf(dir: string, name: string, issuer: string, ext: string): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial',
    '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

export function makeTestCertificates(serverName = 'temporal.fleetops.test'): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'fleetops-certs-'));
  ca(dir, 'server-ca');
  ca(dir, 'client-ca');
  ca(dir, 'rogue-ca');
  leaf(dir, 'server', 'server-ca', `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${serverName}\n`);
  const clientExt = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n';
  leaf(dir, 'client', 'client-ca', clientExt);
  leaf(dir, 'rogue', 'rogue-ca', clientExt);
  const p = (f: string) => join(dir, f);
  return {
    dir,
    serverName,
    serverCa: p('server-ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCa: p('client-ca.crt'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    rogueCert: p('rogue.crt'),
    rogueKey: p('rogue.key'),
    pem: (path) => readFileSync(path, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
