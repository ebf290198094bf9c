import { expect } from 'chai';
import { initialDetector, isDetectorState, observe, recordAction, type DetectorParams, type DetectorState } from '../../../src/hotplug/detector.js';

const P: DetectorParams = { threshold: 0.9, windowCycles: 3, cooldownCycles: 5, hysteresis: 0.1, direction: 'above' };

/** Run values through the detector, acting on every firing; returns the cycles (0-based) that fired. */
function run(values: (number | null)[], p: DetectorParams = P, act = true): { fired: number[]; state: DetectorState } {
  let s = initialDetector();
  const fired: number[] = [];
  values.forEach((v, i) => {
    const o = observe(s, v, p);
    s = o.state;
    if (o.fired) {
      fired.push(i);
      if (act) s = recordAction(s, p);
    }
  });
  return { fired, state: s };
}

describe('hotplug: saturation detector', () => {
  it('fires after windowCycles consecutive cycles at or above the threshold', () => {
    expect(run([0.95, 0.95, 0.95]).fired).to.deep.equal([2]);
    expect(run([0.9, 0.9, 0.9]).fired).to.deep.equal([2]);
  });
  it('a dip below the threshold restarts the count', () => {
    expect(run([0.95, 0.95, 0.85, 0.95, 0.95, 0.95]).fired).to.deep.equal([5]);
  });
  it('a cycle without a value (not running, no sample) restarts the count', () => {
    expect(run([0.95, 0.95, null, 0.95, 0.95]).fired).to.deep.equal([]);
  });
  it('one long burst fires once: disarmed until the load falls below threshold - hysteresis', () => {
    expect(run(Array(40).fill(1)).fired).to.deep.equal([2]);
    // 0.85 is below the threshold but not below 0.8: still disarmed.
    expect(run([...Array(3).fill(1), ...Array(10).fill(0.85), ...Array(10).fill(1)]).fired).to.deep.equal([2]);
  });
  it('re-arms after the load fell below threshold - hysteresis, and fires again after the cooldown', () => {
    // fires at 2 (cooldown 5 -> allowed from cycle 7); dip at 3 re-arms; saturated again 4..
    expect(run([1, 1, 1, 0.5, 1, 1, 1, 1, 1, 1]).fired).to.deep.equal([2, 7]);
  });
  it('no second firing inside the cooldown even when re-armed and saturated', () => {
    const p = { ...P, cooldownCycles: 8 };
    const { fired } = run([1, 1, 1, 0.1, 1, 1, 1, 1, 1, 1, 1, 1, 1], p);
    expect(fired).to.deep.equal([2, 10]);
    expect(fired[1] - fired[0]).to.be.at.least(8);
  });
  it('keeps firing every cycle while nobody acts on it (a refused hot-plug)', () => {
    expect(run([1, 1, 1, 1, 1], P, false).fired).to.deep.equal([2, 3, 4]);
  });
  it("direction 'below' fires on a value under the threshold (memory ratio) and re-arms at threshold + hysteresis", () => {
    const p: DetectorParams = { threshold: 0.1, windowCycles: 2, cooldownCycles: 0, hysteresis: 0.05, direction: 'below' };
    expect(run([0.05, 0.05, 0.05, 0.12, 0.05, 0.05, 0.2, 0.05, 0.05], p).fired).to.deep.equal([1, 8]);
  });
  it('state is plain JSON and survives a round trip', () => {
    const { state } = run([1, 1, 1, 1]);
    const back = JSON.parse(JSON.stringify(state));
    expect(isDetectorState(back)).to.equal(true);
    expect(back).to.deep.equal(state);
    expect(isDetectorState({ count: -1, armed: true, cooldown: 0 })).to.equal(false);
    expect(isDetectorState({ count: 1, armed: 'yes', cooldown: 0 })).to.equal(false);
  });
});
