import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  ModifyRuleCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ensureCertificate } from '../../stack/certificate';
import { startEmulator } from '../../testkit/emulator';
import { useEmulator } from '../harness/emulator';

/**
 * The elb-rules behaviour: listener rule actions validated as the ELBv2 API reference documents them
 * (one routing action, last; authentication on HTTPS only; ForwardConfig/TargetGroupArn; weights and
 * stickiness ranges; the OIDC client secret required, never returned, kept on UseExistingClientSecret).
 */

jest.setTimeout(60_000);

const emu = useEmulator(() => startEmulator({ autoTick: false }));

const OIDC = {
  Issuer: 'https://idp.example',
  AuthorizationEndpoint: 'https://idp.example/authorize',
  TokenEndpoint: 'https://idp.example/token',
  UserInfoEndpoint: 'https://idp.example/userinfo',
  ClientId: 'fleetops-demo',
};

async function alb() {
  const { ec2, elbv2 } = emu.aws;
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }))).Vpc!.VpcId!;
  const subnets = await Promise.all(
    ['a', 'b'].map(async (az, i) => (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: `10.30.${i}.0/24`, AvailabilityZone: `us-east-1${az}` }))).Subnet!.SubnetId!),
  );
  const lb = (await elbv2.send(new CreateLoadBalancerCommand({ Name: 'rules', Subnets: subnets }))).LoadBalancers![0]!.LoadBalancerArn!;
  const tg = async (Name: string) => (await elbv2.send(new CreateTargetGroupCommand({ Name, Protocol: 'HTTP', Port: 80, VpcId: vpc }))).TargetGroups![0]!.TargetGroupArn!;
  const [a, b] = [await tg('a'), await tg('b')];
  const listener = async (Protocol: 'HTTP' | 'HTTPS', Port: number) =>
    (
      await elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb,
          Protocol,
          Port,
          ...(Protocol === 'HTTPS' ? { Certificates: [{ CertificateArn: await ensureCertificate({ region: 'us-east-1', endpoint: emu.endpoint, domain: 'rules.example' }) }] } : {}),
          DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
        }),
      )
    ).Listeners![0]!.ListenerArn!;
  return { a, b, http: await listener('HTTP', 80), https: await listener('HTTPS', 443) };
}

const rule = (ListenerArn: string, Actions: Action[]) =>
  emu.aws.elbv2.send(new CreateRuleCommand({ ListenerArn, Priority: 1, Conditions: [{ Field: 'path-pattern', Values: ['/*'] }], Actions }));

const failure = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => `${e.name}: ${e.message}`);

describe('elb-rules behaviour', () => {
  it('refuses authentication on an HTTP listener, a routing action that is not last, and a second routing action', async () => {
    const { a, http, https } = await alb();
    const oidc: Action = { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { ...OIDC, ClientSecret: 's3cret' } };
    const forward = (Order: number): Action => ({ Type: 'forward', Order, TargetGroupArn: a });
    expect(await failure(rule(http, [oidc, forward(2)]))).toBe('ValidationError: authenticate-oidc actions are supported only on HTTPS listeners (this listener is HTTP)');
    expect(await failure(rule(https, [forward(1), { ...oidc, Order: 2 }]))).toBe('ValidationError: the forward action must be the last action performed');
    expect(await failure(rule(https, [forward(1), { Type: 'fixed-response', Order: 2, FixedResponseConfig: { StatusCode: '503' } }]))).toMatch(
      /^ValidationError: a rule must have exactly one forward, redirect or fixed-response action; it has 2$/,
    );
    expect(await failure(rule(https, [{ ...oidc, Order: undefined }, forward(2)]))).toMatch(/Order is required/);
    expect(await failure(rule(https, [{ ...oidc, AuthenticateOidcConfig: OIDC }, forward(2)]))).toBe('ValidationError: Actions[0].AuthenticateOidcConfig.ClientSecret is required');
    expect(await failure(rule(https, [oidc, forward(2)]))).toBe('accepted');
  });

  it('checks the forward config: one group beside TargetGroupArn, weights 0-999, stickiness duration', async () => {
    const { a, b, http } = await alb();
    const both: Action = { Type: 'forward', TargetGroupArn: a, ForwardConfig: { TargetGroups: [{ TargetGroupArn: a, Weight: 90 }, { TargetGroupArn: b, Weight: 10 }] } };
    expect(await failure(rule(http, [both]))).toMatch(/ForwardConfig must name only that target group/);
    const heavy: Action = { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: a, Weight: 1000 }] } };
    expect(await failure(rule(http, [heavy]))).toMatch(/Weight must be an integer from 0 to 999, got 1000/);
    const sticky = (DurationSeconds?: number): Action => ({
      Type: 'forward',
      ForwardConfig: { TargetGroups: [{ TargetGroupArn: a, Weight: 1 }], TargetGroupStickinessConfig: { Enabled: true, DurationSeconds } },
    });
    expect(await failure(rule(http, [sticky()]))).toMatch(/enabled target group stickiness needs DurationSeconds/);
    expect(await failure(rule(http, [sticky(0)]))).toMatch(/DurationSeconds must be an integer from 1 to 604800/);
    expect(await failure(rule(http, [sticky(600)]))).toBe('accepted');
  });

  it('never returns the OIDC client secret, and keeps it on ModifyRule only with UseExistingClientSecret', async () => {
    const { a, b, https } = await alb();
    const created = (await rule(https, [
      { Type: 'authenticate-oidc', Order: 1, AuthenticateOidcConfig: { ...OIDC, ClientSecret: 's3cret' } },
      { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: a, Weight: 100 }] } },
    ])).Rules![0]!;
    const ruleArn = created.RuleArn!;
    expect(created.Actions?.[0]?.AuthenticateOidcConfig).toEqual(expect.not.objectContaining({ ClientSecret: expect.anything() }));
    const described = async () => (await emu.aws.elbv2.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }))).Rules![0]!;
    const oidc = (await described()).Actions!.find((x) => x.Type === 'authenticate-oidc')!;
    expect(oidc.AuthenticateOidcConfig).toMatchObject(OIDC);
    expect(oidc.AuthenticateOidcConfig?.ClientSecret).toBeUndefined();
    const secrets = async () => (await emu.sim.request<{ clientSecrets: Record<string, string> }>('GET', 'elb-rules')).clientSecrets;
    expect(await secrets()).toEqual({ [ruleArn]: 's3cret' });

    const weighted: Action = { Type: 'forward', Order: 2, ForwardConfig: { TargetGroups: [{ TargetGroupArn: a, Weight: 90 }, { TargetGroupArn: b, Weight: 10 }] } };
    // What a client that wrote back what it read would send: no secret, no UseExistingClientSecret.
    expect(await failure(emu.aws.elbv2.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [oidc, weighted] })))).toBe(
      'ValidationError: Actions[0].AuthenticateOidcConfig.ClientSecret is required unless UseExistingClientSecret is true',
    );
    const keep: Action = { ...oidc, AuthenticateOidcConfig: { ...oidc.AuthenticateOidcConfig!, UseExistingClientSecret: true } };
    await emu.aws.elbv2.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [keep, weighted] }));
    expect((await described()).Actions?.map((x) => x.Type)).toEqual(['authenticate-oidc', 'forward']);
    expect(await secrets()).toEqual({ [ruleArn]: 's3cret' });
    // ModifyRule replaces the whole list: an Actions without the authentication action removes it.
    await emu.aws.elbv2.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [{ ...weighted, Order: 1 }] }));
    expect((await described()).Actions?.map((x) => x.Type)).toEqual(['forward']);
    expect(await secrets()).toEqual({});
  });
});
