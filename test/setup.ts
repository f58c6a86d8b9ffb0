// aws-local-stepfunctions 3 needs Promise.withResolvers, which Node 20 lacks.
import '../lib/simulator/polyfill';

// Tests never reach AWS: fail fast if anything tries to resolve real credentials.
process.env.AWS_ACCESS_KEY_ID = 'AKIATESTONLY';
process.env.AWS_SECRET_ACCESS_KEY = 'test-only-not-a-secret';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-1';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
