import { connect as tlsConnect, type ConnectionOptions as TlsSocketOptions } from 'node:tls';
import { tlsConfigOf, type TemporalTarget } from './target';

/** A TLS handshake of our own, to say why a TLS connection failed and which setting to change. */

export type ProbeResult = { ok: true } | { ok: false; stage: 'connect' | 'verify' | 'handshake' | 'after-handshake'; code?: string; message: string };

/**
 * A TLS handshake with the same settings, to say why a connection failed (gRPC only reports "failed to
 * connect before the deadline"). The server may refuse a client certificate after the handshake
 * (TLS 1.3), so the HTTP/2 preface is sent and the probe waits for the server's first frame.
 */
export function probeTls(target: TemporalTarget, timeoutMs = 3_000): Promise<ProbeResult> {
  const tls = tlsConfigOf(target);
  const [host, port] = splitAddress(target.address);
  const options: TlsSocketOptions = {
    host,
    port,
    ALPNProtocols: ['h2'],
    servername: tls.serverNameOverride ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
    ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
    ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
  };
  return new Promise((resolve) => {
    let secured = false;
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = tlsConnect(options, () => {
      secured = true;
      socket.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 'binary'));
    });
    const timer = setTimeout(() => finish(secured ? { ok: true } : { ok: false, stage: 'connect', message: 'no TLS handshake before the deadline' }), timeoutMs);
    socket.on('data', () => finish({ ok: true }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const stage = secured ? 'after-handshake' : /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME/.test(err.code ?? '') ? 'verify' : err.code === 'ECONNREFUSED' ? 'connect' : 'handshake';
      finish({ ok: false, stage, code: err.code, message: err.message });
    });
    socket.on('close', () => finish(secured ? { ok: false, stage: 'after-handshake', message: 'the server closed the connection' } : { ok: false, stage: 'handshake', message: 'the server closed the connection during the TLS handshake' }));
  });
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

/** Turns a TLS probe's failure into what to change, naming the setting. */
export function tlsAdvice(target: TemporalTarget, probe: Exclude<ProbeResult, { ok: true }>): string {
  const s = target.settings;
  const tls = tlsConfigOf(target);
  const text = `${probe.code ?? ''} ${probe.message}`;
  if (probe.stage === 'connect') return probe.message;
  if (probe.code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /altnames|NotValidForName/.test(text)) {
    return tls.serverNameOverride
      ? `the server's certificate is not valid for ${s.serverName} (${probe.message})`
      : `the server's certificate is not valid for "${splitAddress(target.address)[0]}": set TEMPORAL_TLS_SERVER_NAME (or tls.server_name in the profile) to the name in it (${probe.message})`;
  }
  if (probe.stage === 'verify') {
    return s.serverCa
      ? `the server's certificate is not signed by the CA in ${s.serverCa} (${probe.message})`
      : `the server's certificate is not signed by a CA this machine trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH (or tls.server_ca_cert_path in the profile) to the CA that signed it (${probe.message})`;
  }
  if (/certificate required|handshake failure|peer did not return/i.test(text) && !tls.clientCertPair) {
    return 'the server requires a client certificate (mTLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_cert_path and tls.client_key_path in the profile)';
  }
  if (tls.clientCertPair && (probe.stage === 'after-handshake' || /bad certificate|unknown ca|certificate unknown|alert/i.test(text))) {
    return `the server refused the client certificate from ${s.clientCert} (with ${s.clientKey}): it is not signed by a CA the server trusts, or has expired (${probe.message})`;
  }
  if (probe.stage === 'after-handshake') {
    return `the server closed the connection after the TLS handshake; it may require a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (${probe.message})`;
  }
  return `TLS handshake failed (${probe.message}); is the server speaking TLS on ${target.address}?`;
}
