/**
 * Certificates for a test broker's SSL listener, made with the JDK's keytool
 * (beside the java that runs the broker): a CA of its own, and a key pair for
 * 127.0.0.1 it signed. The broker reads its PKCS12 keystore; a client trusts
 * the CA's PEM (a sink file's `ssl.ca`). Valid for two days, in `dir`.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { runTool } from './server-process.ts';

export interface BrokerTls {
  /** PKCS12 with the broker's key, its certificate and the CA's. */
  keystore: string;
  password: string;
  /** The CA's certificate, PEM: what a client must trust. */
  caFile: string;
}

export async function makeBrokerTls(dir: string, java: string): Promise<BrokerTls> {
  const keytool = java.includes('/') ? join(dirname(java), 'keytool') : 'keytool';
  const password = randomBytes(12).toString('hex');
  const [ca, caFile, keystore, request, signed] = ['ca.p12', 'ca.pem', 'broker.p12', 'broker.csr', 'broker.pem'].map((f) => join(dir, f));
  const store = (file: string) => ['-keystore', file, '-storetype', 'PKCS12', '-storepass', password];
  const pair = (alias: string, dname: string, file: string, ext: string[]) =>
    ['-genkeypair', '-alias', alias, '-keyalg', 'RSA', '-keysize', '2048', '-dname', dname, '-validity', '2', ...ext, ...store(file), '-keypass', password];
  await runTool(keytool, pair('ca', 'CN=slotline test CA', ca, ['-ext', 'bc:c']));
  await runTool(keytool, ['-exportcert', '-rfc', '-alias', 'ca', '-file', caFile, ...store(ca)]);
  await runTool(keytool, pair('broker', 'CN=127.0.0.1', keystore, []));
  await runTool(keytool, ['-certreq', '-alias', 'broker', '-file', request, ...store(keystore)]);
  // Node checks the address it connected to against the certificate's subjectAltName.
  await runTool(keytool, ['-gencert', '-rfc', '-alias', 'ca', '-infile', request, '-outfile', signed, '-validity', '2', '-ext', 'SAN=IP:127.0.0.1', ...store(ca)]);
  await runTool(keytool, ['-importcert', '-noprompt', '-alias', 'ca', '-file', caFile, ...store(keystore)]);
  await runTool(keytool, ['-importcert', '-alias', 'broker', '-file', signed, ...store(keystore)]);
  return { keystore, password, caFile };
}
