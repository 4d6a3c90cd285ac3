export default async function globalTeardown(): Promise<void> {
  const stops = (globalThis as { __fleetopsStop?: (() => Promise<void>)[] }).__fleetopsStop ?? [];
  await Promise.all(stops.map((stop) => stop()));
}
