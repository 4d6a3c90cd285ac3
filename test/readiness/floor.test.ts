import { effectiveFloor, floorShortfall, floorUnits, movableOnDemand, onDemandUnits, readinessTimeline, scaleInAllowance, withFloor, type HeldFloor } from '../../common/readiness-floor';

/** The arithmetic of readiness floors (common/readiness-floor.ts), shared by the readiness and capacity workflows. */

const held = (windowId: string, units: number, od: number, until = 10_000): HeldFloor => ({ windowId, units, onDemandUnits: od, until, reason: 'test' });

describe('readiness floor arithmetic', () => {
  it('a floor in units is those units; a factor is of the units running, rounded up, at least 1', () => {
    expect(floorUnits({ units: 8 }, 3)).toBe(8);
    expect(floorUnits({ factor: 1.5 }, 5)).toBe(8);
    expect(floorUnits({ factor: 2 }, 4)).toBe(8);
    expect(floorUnits({ factor: 2 }, 0)).toBe(1);
  });

  it('on-demand units are the share rounded up, never more than the floor', () => {
    expect(onDemandUnits(6, 0.5)).toBe(3);
    expect(onDemandUnits(5, 0.5)).toBe(3);
    expect(onDemandUnits(5, 0)).toBe(0);
    expect(onDemandUnits(5, 1)).toBe(5);
  });

  it('overlapping windows: the highest floor wins; an ended or released one no longer counts', () => {
    const floors = [held('low', 3, 2), held('high', 5, 1), held('old', 9, 9, 100)];
    expect(effectiveFloor(floors, 500)).toEqual({ units: 5, onDemandUnits: 2, windowIds: ['high', 'low'] });
    expect(effectiveFloor(withFloor(floors, 'high', undefined), 500)).toEqual({ units: 3, onDemandUnits: 2, windowIds: ['low'] });
    expect(effectiveFloor([], 0)).toEqual({ units: 0, onDemandUnits: 0, windowIds: [] });
    expect(withFloor(floors, 'low', held('low', 4, 0)).find((f) => f.windowId === 'low')?.units).toBe(4);
  });

  it('the shortfall asks on-demand units first, and counts units already asked for', () => {
    const floor = { units: 6, onDemandUnits: 3, windowIds: ['w'] };
    expect(floorShortfall(floor, { units: 2, onDemandUnits: 0, pendingOut: 0 })).toEqual({ onDemand: 3, any: 1 });
    expect(floorShortfall(floor, { units: 5, onDemandUnits: 3, pendingOut: 1 })).toEqual({ onDemand: 0, any: 0 });
    expect(floorShortfall(floor, { units: 8, onDemandUnits: 1, pendingOut: 0 })).toEqual({ onDemand: 2, any: 0 });
  });

  it('scale-in stops at the higher of min and floor; return to spot keeps the floor on-demand units', () => {
    expect(scaleInAllowance(4, 10, 2, 7)).toBe(3);
    expect(scaleInAllowance(4, 10, 2, 0)).toBe(4);
    expect(scaleInAllowance(4, 6, 2, 7)).toBeLessThanOrEqual(0);
    expect(movableOnDemand(5, 3)).toBe(2);
    expect(movableOnDemand(2, 3)).toBe(0);
  });

  it('raises at start minus lead, notifies at half the lead, opens an incident at three quarters', () => {
    expect(readinessTimeline(1_000_000, 400)).toEqual({ raiseAt: 600_000, notifyAt: 800_000, incidentAt: 900_000 });
  });
});
