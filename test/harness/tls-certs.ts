/**
 * A throw-away certificate authority and server certificates for TLS tests,
 * made with the `openssl` command into a dir the caller owns (PEM files).
 * Nothing here is secret: the keys live only as long as the test's temp dir.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface TestCa {
  /** PEM certificate of the CA: what a client trusts. */
  certFile: string;
  keyFile: string;
}

export interface TestServerCert {
  certFile: string;
  keyFile: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

/** A self-signed CA named `name`, valid for a day: `<dir>/<name>.crt` and `.key`. */
export async function makeTestCa(dir: string, name: string): Promise<TestCa> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', certFile,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { certFile, keyFile };
}

/**
 * A server certificate signed by `ca` for `ips` (subjectAltName IP entries) and
 * `localhost`: `<dir>/<name>.crt` and `.key` (PKCS#8, which Elasticsearch reads).
 */
export async function makeServerCert(ca: TestCa, dir: string, name: string, ips: string[]): Promise<TestServerCert> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', keyFile, '-out', csr]);
  const altNames = ['DNS:localhost', ...ips.map((ip) => `IP:${ip}`)].join(',');
  await writeFile(ext, `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-days', '1', '-extfile', ext, '-out', certFile]);
  return { certFile, keyFile };
}
