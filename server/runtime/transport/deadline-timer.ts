// One timer per connection for quiche's deadline. Re-arming costs a
// clearTimeout/setTimeout pair, and quiche's deadline moves with nearly every
// packet, so the timer is re-armed only when the deadline moves earlier; when
// it moved later the timer fires early and the owner simply re-arms it.
export class DeadlineTimer {
  private timer: NodeJS.Timeout | null = null;
  private due = 0;

  constructor(private readonly onFire: () => void) {}

  /** Fire in `ms` milliseconds, unless already due to fire no later than that. */
  arm(ms: number): void {
    const due = performance.now() + ms;
    if (this.timer !== null && this.due <= due + 1) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(this.fire, ms);
  }

  clear(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.onFire();
  };
}
