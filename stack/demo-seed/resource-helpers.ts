import type { ResourceType, TagSpecification } from '@aws-sdk/client-ec2';

/** Small helpers every seed step shares. */

export function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`seed: the emulator returned no ${what}`);
  return value;
}

export const nameTag = (resourceType: ResourceType, value: string): TagSpecification => ({
  ResourceType: resourceType,
  Tags: [
    { Key: 'Name', Value: value },
    { Key: 'fleetops:demo', Value: 'true' },
  ],
});

export function azsOf(region: string): string[] {
  return ['a', 'b', 'c'].map((s) => `${region}${s}`);
}
