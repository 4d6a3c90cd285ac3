import { escapeXml, type SimResponse } from '../../protocol';
import { MAX_GLOBAL_TIMEOUT_S, TERMINATING, type LifecycleActionState } from './lifecycle-actions';

/**
 * What the asg-lifecycle behaviour changes in moto's Auto Scaling answers, so they read as AWS's:
 * DescribeAutoScalingGroups (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html)
 * lists instances in Terminating:Wait, and DescribeLifecycleHooks reports each hook's GlobalTimeout
 * as API_LifecycleHook (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LifecycleHook.html)
 * defines it.
 */

/** Instances in Terminating:Wait are no longer in moto's group: DescribeAutoScalingGroups shows them, as AWS does. */
export function withWaiting(res: SimResponse, active: readonly LifecycleActionState[]): SimResponse | void {
  const waiting = active.filter((a) => a.transition === TERMINATING);
  if (waiting.length === 0) return;
  let xml = res.body.toString('utf8');
  let changed = false;
  for (const asg of new Set(waiting.map((a) => a.autoScalingGroupName))) {
    const at = xml.indexOf(`<AutoScalingGroupName>${escapeXml(asg)}</AutoScalingGroupName>`);
    if (at < 0) continue;
    const ids = [...new Set(waiting.filter((a) => a.autoScalingGroupName === asg).map((a) => a.instanceId))];
    const members = ids.map((id) => `<member><InstanceId>${id}</InstanceId><LifecycleState>Terminating:Wait</LifecycleState><HealthStatus>Healthy</HealthStatus></member>`).join('');
    const empty = /<Instances\s*\/>/.exec(xml.slice(at));
    const openIdx = xml.indexOf('<Instances>', at);
    if (openIdx >= 0 && (!empty || openIdx < at + empty.index)) {
      xml = xml.slice(0, openIdx + '<Instances>'.length) + members + xml.slice(openIdx + '<Instances>'.length);
      changed = true;
    } else if (empty) {
      const i = at + empty.index;
      xml = `${xml.slice(0, i)}<Instances>${members}</Instances>${xml.slice(i + empty[0].length)}`;
      changed = true;
    }
  }
  if (!changed) return;
  const body = Buffer.from(xml);
  return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
}

/** moto reports GlobalTimeout 172800 for every hook; AWS reports min(100 × HeartbeatTimeout, 172800) (API_LifecycleHook). */
export function globalTimeouts(res: SimResponse): SimResponse | void {
  const xml = res.body.toString('utf8');
  const fixed = xml.replace(/<member>([\s\S]*?)<\/member>/g, (m) => {
    const hb = Number(/<HeartbeatTimeout>(\d+)<\/HeartbeatTimeout>/.exec(m)?.[1] ?? 3600);
    return m.replace(/<GlobalTimeout>\d+<\/GlobalTimeout>/, `<GlobalTimeout>${Math.min(100 * hb, MAX_GLOBAL_TIMEOUT_S)}</GlobalTimeout>`);
  });
  if (fixed === xml) return;
  const body = Buffer.from(fixed);
  return { ...res, headers: { ...res.headers, 'content-length': String(body.length) }, body };
}
