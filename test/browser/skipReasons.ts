// A Playwright reporter that says why each skipped test was skipped (the list reporter shows only
// that it was): `test.skip(condition, reason)`'s reason, printed once at the end of the run.
import type { Reporter, TestCase, TestResult } from '@playwright/test/reporter';

export default class SkipReasons implements Reporter {
  private readonly lines: string[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') return;
    const reasons = new Set([...test.annotations, ...result.annotations].filter((a) => a.type === 'skip' || a.type === 'fixme').map((a) => a.description ?? ''));
    reasons.delete('');
    this.lines.push(`  - ${test.titlePath().filter(Boolean).join(' › ')}: ${[...reasons].join('; ') || 'no reason given'}`);
  }

  onEnd(): void {
    if (this.lines.length) console.log(`\n${this.lines.length} skipped, and why:\n${this.lines.join('\n')}`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
