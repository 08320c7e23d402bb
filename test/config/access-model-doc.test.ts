import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accessReportOf, formatAccessReport } from '../../src/config/access-report.js';
import { loadConfigFile } from '../../src/config/load.js';

/* docs/access-model.md shows the example file and check-config's output as they are, not as they once were. */

const root = join(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/access-model.md'), 'utf8');
const blocks = [...doc.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2]! }));

describe('docs/access-model.md', () => {
  it('embeds examples/access-model.yaml verbatim as its worked example', () => {
    const example = readFileSync(join(root, 'examples/access-model.yaml'), 'utf8');
    expect(blocks.find((b) => b.lang === 'yaml')?.text).toBe(example);
  });

  it("prints the example's check-config report for Monday 08:30 as the code prints it", () => {
    const shown = blocks.find((b) => b.text.includes('time zone Europe/Berlin: now Mon 2027-01-04 08:30'))!.text.trimEnd().split('\n');
    expect(shown[0]).toBe('examples/access-model.yaml: OK — site office, 4 doors, 4 readers, 1 resources');
    const report = accessReportOf(loadConfigFile(join(root, 'examples/access-model.yaml')), Date.parse('2027-01-04T08:30:00+01:00'));
    expect(shown.slice(1)).toEqual(formatAccessReport(report));
  });
});
