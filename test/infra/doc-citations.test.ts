/**
 * Every citation of the project's documents resolves (docs/design.md §11.5). Plain fs, no
 * network. Over every tracked (or new, not ignored) source and document file — bin, lib,
 * lambdas, state-machines, test, docs, README.md and the top-level JSON files:
 *  (a) a cited `docs/<name>.md` exists;
 *  (b) a cited `docs/<name>.md §n[.m]` has a heading numbered n[.m] in that document, and a bare
 *      `§n` inside docs/design.md has one there;
 *  (c) nothing names the retired starting documents (the upper-case design and style briefs):
 *      the repository's own design document is docs/design.md;
 *  (d) every Markdown link in README.md and docs/ to a local file resolves.
 * This file is left out of its own scan: it has to spell the patterns it looks for.
 */
import { execFileSync } from 'child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const SELF = path.relative(ROOT, __filename).split(path.sep).join('/');
const SCANNED_DIRS = ['bin/', 'lib/', 'lambdas/', 'state-machines/', 'test/', 'docs/'];
const TEXT = /\.(ts|js|mjs|cjs|json|md|ya?ml)$/;
const SKIPPED = /(^|\/)(node_modules|cdk\.out|dist|coverage|\.git)(\/|$)/;

/** Repository-relative paths, `/`-separated: git's list of tracked and new files, or a walk without git. */
function repoFiles(): string[] {
  let listed: string[];
  try {
    listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    listed = walk('');
  }
  return [...new Set(listed)].filter((f) => existsSync(path.join(ROOT, f)) && !SKIPPED.test(f)).sort();
}

function walk(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = dir ? `${dir}/${name}` : name;
    if (SKIPPED.test(rel)) return [];
    return statSync(path.join(ROOT, rel)).isDirectory() ? walk(rel) : [rel];
  });
}

function scanned(file: string): boolean {
  if (file === SELF || !TEXT.test(file)) return false;
  if (file === 'README.md') return true;
  if (!file.includes('/') && file.endsWith('.json')) return true;
  return SCANNED_DIRS.some((d) => file.startsWith(d));
}

/** The file's lines; JSON's `\u00a7` escape read as the section sign it stands for. */
function linesOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return (file.endsWith('.json') ? text.replace(/\\u00a7/gi, '§') : text).split('\n');
}

/** Section numbers of a Markdown document's headings: `## 3. The response workflow` → 3, `### 3.3 …` → 3.3. */
function sectionsOf(doc: string): Set<string> {
  const numbers = new Set<string>();
  let fenced = false;
  for (const line of linesOf(doc)) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+§?(\d+(?:\.\d+)*)\.?(?:\s|$)/.exec(line);
    if (m) numbers.add(m[1]!);
  }
  return numbers;
}

const files = repoFiles().filter(scanned);
const sectionCache = new Map<string, Set<string>>();
function sections(doc: string): Set<string> {
  let s = sectionCache.get(doc);
  if (!s) sectionCache.set(doc, (s = existsSync(path.join(ROOT, doc)) ? sectionsOf(doc) : new Set()));
  return s;
}

/** `docs/<name>.md`, then the `§n` run that follows it (`§3.3 and §4`, `§3, §6`). */
const DOC_CITE = /(?<![\w.-])docs\/([\w.-]+(?:\/[\w.-]+)*\.md)\b/g;
const SECTION_RUN = /^(?:\s*(?:,|;|\/|and|or|&)?\s*§\s*(\d+(?:\.\d+)*))/;
// Built from parts, so that no other file's scan would see this line either.
const RETIRED = new RegExp(`(?<![\\w.-])(${['DES', 'IGN'].join('')}|${['STY', 'LE'].join('')})(\\.md\\b|\\s*§)`);
const MD_LINK = /\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g;

function citedSections(rest: string): string[] {
  const found: string[] = [];
  let tail = rest;
  for (let m = SECTION_RUN.exec(tail); m; m = SECTION_RUN.exec(tail)) {
    found.push(m[1]!);
    tail = tail.slice(m[0].length);
  }
  return found;
}

function problems(check: (file: string, line: string, n: number) => string[]): string[] {
  return files.flatMap((file) => linesOf(file).flatMap((line, i) => check(file, line, i + 1).map((p) => `${file}:${i + 1}: ${p}`)));
}

describe('doc citations', () => {
  it('scans the tree it guards', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('docs/design.md');
    expect(files).not.toContain(SELF);
    for (const dir of ['bin/', 'lib/', 'lambdas/', 'state-machines/', 'test/']) {
      expect(files.some((f) => f.startsWith(dir))).toBe(true);
    }
  });

  it('docs/design.md numbers the sections the code cites', () => {
    const numbered = sections('docs/design.md');
    for (const n of ['1', '2', '2.1', '2.2', '2.3', '2.4', '3', '3.1', '3.2', '3.3', '3.4', '3.5', '4', '5', '6', '7', '8', '9', '10', '11']) {
      expect(numbered).toContain(n);
    }
  });

  it('(a) every cited docs/<name>.md exists', () => {
    expect(
      problems((_file, line) =>
        [...line.matchAll(DOC_CITE)].filter((m) => !existsSync(path.join(ROOT, 'docs', m[1]!))).map((m) => `docs/${m[1]!} does not exist`),
      ),
    ).toEqual([]);
  });

  it('(b) every cited section has a heading with that number', () => {
    expect(
      problems((file, line) => {
        const out: string[] = [];
        for (const m of line.matchAll(DOC_CITE)) {
          const doc = `docs/${m[1]!}`;
          if (!existsSync(path.join(ROOT, doc))) continue;
          for (const n of citedSections(line.slice(m.index + m[0].length))) {
            if (!sections(doc).has(n)) out.push(`${doc} has no section §${n}`);
          }
        }
        if (file === 'docs/design.md') {
          const cited = line.replace(DOC_CITE, '');
          for (const m of cited.matchAll(/§\s*(\d+(?:\.\d+)*)/g)) {
            if (!sections(file).has(m[1]!)) out.push(`docs/design.md has no section §${m[1]!}`);
          }
        }
        return out;
      }),
    ).toEqual([]);
  });

  it('(c) nothing names the retired design and style briefs', () => {
    expect(problems((_file, line) => (RETIRED.test(line) ? [`names ${RETIRED.exec(line)![0]}: cite docs/design.md instead`] : []))).toEqual([]);
  });

  it('(d) every Markdown link to a local file resolves', () => {
    const markdown = new Set(files.filter((f) => f === 'README.md' || (f.startsWith('docs/') && f.endsWith('.md'))));
    expect(
      problems((file, line) => {
        if (!markdown.has(file)) return [];
        return [...line.matchAll(MD_LINK)]
          .map((m) => (m[1] ?? m[2])!)
          .filter((target) => !/^([a-z][a-z0-9+.-]*:|#)/i.test(target))
          .map((target) => decodeURI(target.replace(/[#?].*$/, '')))
          .filter((target) => target && !existsSync(path.resolve(ROOT, path.dirname(file), target)))
          .map((target) => `link to ${target} does not resolve`);
      }),
    ).toEqual([]);
  });
});
