import {
  AssumeRoleError,
  classify,
  CordonError,
  errorSummary,
  InstanceNotFoundError,
  isTransient,
  LimitExceededError,
  TransientAwsError,
} from '../../../lambdas/shared/errors';
import { awsError } from '../../support/clients';

describe('isTransient', () => {
  it.each([
    'RequestLimitExceeded',
    'Throttling',
    'ThrottlingException',
    'ServiceUnavailable',
    'InternalError',
    'TimeoutError',
  ])('treats %s as transient', (name) => {
    // Prepare: a client fault, so only the name can make it transient
    const err = awsError(name, { fault: 'client', status: 400 });

    // Act / Assess
    expect(isTransient(err)).toBe(true);
  });

  it('treats a network error code (ECONNRESET) as transient', () => {
    const err = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    expect(isTransient(err)).toBe(true);
  });

  it('treats any server fault or 5xx status as transient, whatever the name', () => {
    expect(isTransient(awsError('SomethingOdd', { fault: 'server', status: 400 }))).toBe(true);
    expect(isTransient(awsError('SomethingOdd', { fault: 'client', status: 503 }))).toBe(true);
  });

  it.each(['AccessDenied', 'UnauthorizedOperation', 'ValidationError', 'InvalidInstanceID.NotFound', 'UnsupportedOperation'])(
    'does not treat %s (4xx client fault) as transient',
    (name) => {
      expect(isTransient(awsError(name, { fault: 'client', status: 400 }))).toBe(false);
    },
  );

  it('returns false for non-objects and plain errors', () => {
    expect(isTransient(undefined)).toBe(false);
    expect(isTransient(null)).toBe(false);
    expect(isTransient('Throttling')).toBe(false);
    expect(isTransient(new Error('boom'))).toBe(false);
  });
});

describe('classify', () => {
  it('wraps a transient AWS error in TransientAwsError, keeping it as the cause', () => {
    // Prepare
    const err = awsError('RequestLimitExceeded', { message: 'Request limit exceeded.' });

    // Act
    const classified = classify(err);

    // Assess
    expect(classified).toBeInstanceOf(TransientAwsError);
    expect((classified as Error).name).toBe('TransientAwsError');
    expect((classified as Error).message).toBe('RequestLimitExceeded: Request limit exceeded.');
    expect((classified as Error).cause).toBe(err);
  });

  it.each(['ConcurrentSnapshotLimitExceeded', 'SnapshotCreationPerVolumeRateExceeded', 'ResourceLimitExceeded'])(
    'turns the EC2 snapshot limit %s into LimitExceededError (retried patiently), not TransientAwsError',
    (name) => {
      // Prepare
      const err = awsError(name, { message: 'limit reached' });

      // Act
      const classified = classify(err);

      // Assess
      expect(classified).toBeInstanceOf(LimitExceededError);
      expect((classified as Error).name).toBe('LimitExceededError');
      expect((classified as Error).message).toBe(`${name}: limit reached`);
      expect((classified as Error).cause).toBe(err);
    },
  );

  it('returns non-transient errors unchanged (same object)', () => {
    const err = awsError('AccessDenied');

    expect(classify(err)).toBe(err);
  });

  it('returns cordon errors unchanged, even when their name would look transient', () => {
    const named = new InstanceNotFoundError('gone');
    const oddlyNamed = new CordonError('Throttling', 'a cordon error that happens to share a name');

    expect(classify(named)).toBe(named);
    expect(classify(oddlyNamed)).toBe(oddlyNamed);
  });

  it('gives every named error class a stable name for Step Functions ErrorEquals', () => {
    expect(new AssumeRoleError('x').name).toBe('AssumeRoleError');
    expect(new TransientAwsError('x').name).toBe('TransientAwsError');
    expect(new InstanceNotFoundError('x').name).toBe('InstanceNotFoundError');
  });
});

describe('errorSummary', () => {
  it('keeps name and a bounded message, never the stack', () => {
    const err = new Error('x'.repeat(2000));
    err.name = 'SomeError';

    const summary = errorSummary(err);

    expect(summary).toEqual({ error: 'SomeError', cause: 'x'.repeat(512) });
  });

  it('handles thrown non-errors', () => {
    expect(errorSummary('plain string')).toEqual({ error: 'Error', cause: 'plain string' });
  });
});
