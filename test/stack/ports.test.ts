import { createServer } from 'node:net';
import { allocatePorts, allocateStackPorts, STACK_PORT_NAMES, STACK_PORTS, withFreePorts } from '../../stack/ports';
import { stackEnv, stackSettings } from '../../stack/settings';
import { temporalDevServerArgs } from '../../stack/temporal-server';

/**
 * Every port the local stack binds comes from one allocation, so no two of its parts (and not the
 * Temporal CLI's own picks) are handed the same one; the dev server is told each port it listens on.
 */

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

const flag = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};

describe('stack ports', () => {
  it('allocates a distinct free port for every named port, each still bindable by the child it is for', async () => {
    const ports = await allocateStackPorts();
    expect(Object.keys(ports).sort()).toEqual([...STACK_PORT_NAMES].sort());
    const values = Object.values(ports);
    expect(values.every((p) => Number.isInteger(p) && p > 0 && p < 65536)).toBe(true);
    expect(new Set(values).size).toBe(values.length);
    // The reservation (TIME_WAIT) must not stop the port's own listener from binding it.
    expect(await Promise.all(values.map(bindable))).toEqual(values.map(() => true));
  });

  it('lists the HTTP API and metrics ports of the dev server among them, and every env var once', () => {
    expect(STACK_PORT_NAMES).toEqual(expect.arrayContaining(['temporalPort', 'temporalHttpPort', 'temporalMetricsPort', 'temporalUiPort', 'awsPort', 'motoPort', 'routerPort', 'workerMetricsPort']));
    const envs = STACK_PORT_NAMES.map((k) => STACK_PORTS[k].env);
    expect(new Set(envs).size).toBe(envs.length);
  });

  it('keeps away from the ports it is told to avoid', async () => {
    const taken = Object.values(await allocatePorts(['a', 'b', 'c']));
    const ports = Object.values(await allocatePorts(['x', 'y', 'z'], { avoid: taken }));
    expect(ports.filter((p) => taken.includes(p))).toEqual([]);
  });

  it('hands a stack/up.ts every allocated port through its env, and reads them all back', async () => {
    const ports = await allocateStackPorts();
    const s = stackSettings(stackEnv('/tmp/fleetops-ports-test', ports));
    for (const k of STACK_PORT_NAMES) expect(s[k]).toBe(ports[k]);
  });

  it("keeps make up's fixed defaults, and picks the others at start, away from the fixed ones", async () => {
    const defaults = stackSettings({});
    expect([defaults.temporalPort, defaults.temporalUiPort, defaults.awsPort, defaults.routerPort, defaults.workerMetricsPort, defaults.prometheusPort]).toEqual([7233, 8233, 4566, 8787, 9464, 9090]);
    expect([defaults.temporalHttpPort, defaults.temporalMetricsPort, defaults.motoPort]).toEqual([0, 0, 0]);
    const resolved = await withFreePorts(defaults, '127.0.0.1');
    expect(resolved.temporalPort).toBe(7233);
    const values = Object.values(resolved);
    expect(values.every((p) => p > 0)).toBe(true);
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('the dev server command line', () => {
  it('passes every port it would otherwise pick itself, with the allocated values', async () => {
    const ports = await allocateStackPorts();
    const args = temporalDevServerArgs({ host: '127.0.0.1', namespace: 'default', runDir: '/tmp/run', ...ports });
    expect(args.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(flag(args, '--port')).toBe(String(ports.temporalPort));
    expect(flag(args, '--http-port')).toBe(String(ports.temporalHttpPort));
    expect(flag(args, '--metrics-port')).toBe(String(ports.temporalMetricsPort));
    expect(flag(args, '--ui-port')).toBe(String(ports.temporalUiPort));
  });

  it('refuses a port left at 0, which the CLI would replace with a pick of its own', () => {
    const ports = { temporalPort: 7233, temporalHttpPort: 0, temporalMetricsPort: 9001, temporalUiPort: 8233 };
    expect(() => temporalDevServerArgs({ host: '127.0.0.1', namespace: 'default', runDir: '/tmp/run', ...ports })).toThrow(/temporalHttpPort is 0/);
  });
});
