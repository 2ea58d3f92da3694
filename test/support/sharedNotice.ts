// Vitest global setup: one line saying why tests are skipped when ../shared is missing.
import { HAS_SHARED, NO_SHARED_REASON } from './shared.js';

export default function sharedNotice(): void {
  if (!HAS_SHARED) console.warn(`taesd-web tests: ${NO_SHARED_REASON}`);
}
