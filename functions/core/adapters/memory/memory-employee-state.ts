import type { EmployeeState, HighWaterMark } from '../../engine/ports';

/** EmployeeState in a Map: for unit tests and property tests. */
export class MemoryEmployeeState implements EmployeeState {
  private readonly marks = new Map<string, HighWaterMark>();

  async advance(employeeKey: string, mark: HighWaterMark) {
    const newest = this.marks.get(employeeKey);
    if (newest && newest.occurredAt > mark.occurredAt)
      return { applied: false as const, newest: { ...newest } };
    this.marks.set(employeeKey, { ...mark });
    return { applied: true as const };
  }

  async get(employeeKey: string) {
    const mark = this.marks.get(employeeKey);
    return mark && { ...mark };
  }
}
