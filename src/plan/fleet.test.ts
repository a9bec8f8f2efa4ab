import { describe, expect, it } from 'vitest';
import { fleetFigures, parseFleet, parseSize, type FleetImage } from './fleet.js';

describe('fleet file', () => {
  it('reads sizes in bytes and units', () => {
    expect(parseSize(1234, 'x')).toBe(1234);
    expect(parseSize('45MB', 'x')).toBe(45_000_000);
    expect(parseSize('1.5 GiB', 'x')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('512', 'x')).toBe(512);
    expect(() => parseSize('-1MB', 'x')).toThrow(/not a size/);
  });

  it('reads hosts, images, rules and defaults', () => {
    const f = parseFleet('period: day\nhosts:\n  - {name: a, count: 2, services: [x, y, x]}\nimages:\n  python:3.12: {size: 1KB, changes: 1}\nsteps:\n  - {match: "pip   install", service: x, changes: 3}\ndefault: {changes: 0.5, size: 10}\n');
    expect(f.period).toBe('day');
    expect(f.hosts).toEqual([{ name: 'a', count: 2, services: ['x', 'y'] }]);
    expect([...f.images]).toEqual([['docker.io/library/python:3.12', { size: 1000, changes: 1 }]]);
    expect(f.steps).toEqual([{ match: 'pip install', service: 'x', size: undefined, changes: 3 }]);
    expect(f.defaultChanges).toBe(0.5);
    expect(f.defaultSize).toBe(10);
  });
});

describe('fleetFigures', () => {
  const layer = (id: string, size: number, changes: number) => ({ id, label: id, size, sizeSource: 'estimated' as const, changes });
  it('pulls each distinct layer once per host, with versions summed up the chain', () => {
    const os = layer('os', 100, 1);
    const a: FleetImage = { name: 'a', layers: [os, layer('a', 10, 5)] };
    const b: FleetImage = { name: 'b', layers: [os, layer('b', 20, 0)] };
    const fleet = parseFleet('hosts:\n  - {count: 3, services: [a, b]}\n  - {services: [b]}\n');
    const f = fleetFigures(fleet, new Map([['a', a], ['b', b]]));
    // host group 1: os + a + b = 130 bytes, x3; group 2: os + b = 120.
    expect(f.coldPull).toBe(3 * 130 + 120);
    // versions: os 1, a 1+5 = 6, b 1+0 = 1.
    expect(f.periodPull).toBe(3 * (100 * 1 + 10 * 6 + 20 * 1) + (100 + 20));
    expect(f.registry).toBe(130);
    expect(f.registryPerPeriod).toBe(100 + 60 + 20);
    expect(f.layers).toBe(3);
    expect(f.exact).toBe(false);
  });
});
