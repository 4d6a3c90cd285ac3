import { ACMClient, ListCertificatesCommand, RequestCertificateCommand } from '@aws-sdk/client-acm';

/**
 * An ACM certificate for `domain` (found, or requested), for an HTTPS listener: ALB authentication
 * actions (authenticate-oidc, authenticate-cognito) work only on HTTPS listeners, and an HTTPS
 * listener needs a certificate the account has. `endpoint` is the AWS emulator's.
 */
export async function ensureCertificate(opts: { region: string; endpoint?: string; domain: string }): Promise<string> {
  const acm = new ACMClient({ region: opts.region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), maxAttempts: 1 });
  try {
    const listed = await acm.send(new ListCertificatesCommand({}));
    const found = listed.CertificateSummaryList?.find((c) => c.DomainName === opts.domain)?.CertificateArn;
    if (found) return found;
    const requested = await acm.send(new RequestCertificateCommand({ DomainName: opts.domain, ValidationMethod: 'DNS' }));
    if (!requested.CertificateArn) throw new Error(`ACM returned no certificate ARN for ${opts.domain}`);
    return requested.CertificateArn;
  } finally {
    acm.destroy();
  }
}
