import { Text } from '../../../lambdas/shared/schemas';

describe('Text: free text that reaches logs, the ledger, SNS and the manifest', () => {
  it.each([
    ['ESC (terminal escape)', 'ok\u001b[2J'],
    ['BEL', 'x\u0007'],
    ['NUL', 'a\u0000b'],
    ['carriage return (overwrites a log line)', 'a\rb'],
    ['DEL', 'a\u007f'],
    ['NEL, a C1 line break', 'a\u0085{"level":"INFO"}'],
    ['CSI, a C1 control', 'a\u009b2J'],
    ['RIGHT-TO-LEFT OVERRIDE', 'INC-1 \u202egnp.exe'],
    ['LEFT-TO-RIGHT EMBEDDING', 'a\u202ab'],
    ['RIGHT-TO-LEFT ISOLATE', 'a\u2067b'],
    ['POP DIRECTIONAL ISOLATE', 'a\u2069b'],
    ['RIGHT-TO-LEFT MARK', 'a\u200fb'],
    ['ARABIC LETTER MARK', 'a\u061cb'],
    ['LINE SEPARATOR', 'a\u2028{"level":"INFO"}'],
    ['PARAGRAPH SEPARATOR', 'a\u2029b'],
  ])('rejects %s, naming the rule', (_what, text) => {
    const result = Text.safeParse(text);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(
      'must not contain control characters (C0/C1 controls, bidirectional overrides, line separators)',
    );
  });

  it.each([
    ['plain ASCII', 'INC-4711: C2 beaconing'],
    ['a tab and a newline', 'first line\n\tsecond line'],
    ['accents, CJK and emoji', 'Vorfall für Ångström — 事件 🚨'],
    ['Arabic and Hebrew text without direction controls', 'حادث אירוע'],
    ['a zero-width joiner inside an emoji', '👩\u200d💻'],
  ])('accepts %s', (_what, text) => {
    expect(Text.parse(text)).toBe(text);
  });
});
