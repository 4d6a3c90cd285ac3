/**
 * Cluster and service from an ECS service ARN in the long format
 * (`arn:aws:ecs:<region>:<account>:service/<cluster>/<service>`). The legacy short format has no
 * cluster; those events cannot be matched to a deploy and are ignored.
 */
export function parseEcsServiceArn(arn: string): { cluster: string; service: string } | undefined {
  const m = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})$/.exec(arn);
  return m ? { cluster: m[1], service: m[2] } : undefined;
}
