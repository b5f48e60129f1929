/**
 * A resource created on first use and shared afterwards. A failed creation is not cached, so a
 * model pulled after the failure is picked up by the next request. `dispose` frees it.
 */
export class Lazy<T> {
  private pending: Promise<T> | undefined;

  constructor(
    private readonly create: () => Promise<T>,
    private readonly destroy: (value: T) => Promise<void> = async () => undefined,
  ) {}

  /** The resource, creating it if needed. */
  get(): Promise<T> {
    if (!this.pending) {
      const attempt = this.create();
      this.pending = attempt;
      attempt.catch(() => {
        if (this.pending === attempt) this.pending = undefined;
      });
    }
    return this.pending;
  }

  /** True once created (or being created). */
  get started(): boolean {
    return this.pending !== undefined;
  }

  /** Frees the resource if it was created. */
  async dispose(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    const value = await pending.catch(() => undefined);
    if (value !== undefined) await this.destroy(value);
  }
}
