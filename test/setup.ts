// aws-local-stepfunctions 3 uses Promise.withResolvers, which Node 20 lacks.
if (typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
// Tests never reach AWS: fail fast if anything tries to resolve real credentials.
process.env.AWS_ACCESS_KEY_ID = 'AKIATESTONLY';
process.env.AWS_SECRET_ACCESS_KEY = 'test-only-not-a-secret';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-1';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
