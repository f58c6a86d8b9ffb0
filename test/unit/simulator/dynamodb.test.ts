/** DynamoDB (document client) in the simulated account: the ledger's subset of conditions and updates. */
import { rejectionOf } from '../../support/clients';
import { account, send } from './support';

describe('DynamoDB', () => {
  it('puts once under attribute_not_exists, then refuses with ConditionalCheckFailedException', async () => {
    const world = account();
    const put = () => send(world, 'dynamodb', 'Put', { Item: { pk: 'inc-1', sk: 'INCIDENT', status: 'open' }, ConditionExpression: 'attribute_not_exists(pk)' });
    await put();
    const err = await rejectionOf(put());
    expect(err.name).toBe('ConditionalCheckFailedException');
    expect(world.item('inc-1', 'INCIDENT')).toEqual({ pk: 'inc-1', sk: 'INCIDENT', status: 'open' });
  });

  it('applies SET with if_not_exists and list_append, REMOVE and ADD, and returns ALL_NEW', async () => {
    const world = account();
    await send(world, 'dynamodb', 'Put', { Item: { pk: 'inc-1', sk: 'INCIDENT', stale: true, count: 1, log: ['a'] } });
    const out = await send(world, 'dynamodb', 'Update', {
      Key: { pk: 'inc-1', sk: 'INCIDENT' },
      UpdateExpression: 'SET #s = :s, firstSeen = if_not_exists(firstSeen, :t), #l = list_append(#l, :more) REMOVE stale ADD #c :one, tags :tag',
      ExpressionAttributeNames: { '#s': 'status', '#l': 'log', '#c': 'count' },
      ExpressionAttributeValues: { ':s': 'contained', ':t': 'T1', ':more': ['b'], ':one': 1, ':tag': new Set(['x']) },
      ReturnValues: 'ALL_NEW',
    });
    // (The model clones items with structuredClone: under jest its Set is of another realm, so compare its members.)
    const { tags, ...rest } = out.Attributes as { tags: Set<string> };
    expect(rest).toEqual({ pk: 'inc-1', sk: 'INCIDENT', status: 'contained', firstSeen: 'T1', log: ['a', 'b'], count: 2 });
    expect([...tags]).toEqual(['x']);
  });

  it('evaluates OR, IN, <, = and a parenthesised AND in conditions', async () => {
    const world = account();
    await send(world, 'dynamodb', 'Put', { Item: { pk: 'p', sk: 's', status: 'open', version: 3 } });
    const update = (cond: string, values: Record<string, unknown>) =>
      send(world, 'dynamodb', 'Update', { Key: { pk: 'p', sk: 's' }, UpdateExpression: 'SET touched = :yes', ConditionExpression: cond, ExpressionAttributeValues: { ':yes': true, ...values } });
    await update('attribute_not_exists(pk) OR (status IN (:a, :b) AND version < :v)', { ':a': 'open', ':b': 'x', ':v': 4 });
    expect(world.item('p', 's')?.touched).toBe(true);
    const err = await rejectionOf(update('status = :closed', { ':closed': 'closed' }));
    expect(err.name).toBe('ConditionalCheckFailedException');
    const unknown = await rejectionOf(update('size(status) > :n', { ':n': 1 }));
    expect(unknown.message).toBe('FakeAws: condition term not modelled: size(status) > :n');
  });

  it('queries a partition in sort-key order, and the byResponseId index; anything else fails loudly', async () => {
    const world = account();
    for (const sk of ['RESPONSE#2', 'INCIDENT', 'RESPONSE#1']) await send(world, 'dynamodb', 'Put', { Item: { pk: 'inc-1', sk, ...(sk === 'RESPONSE#2' ? { responseId: 'r2' } : {}) } });
    const byPk = await send(world, 'dynamodb', 'Query', { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'inc-1' } });
    expect((byPk.Items as Array<{ sk: string }>).map((i) => i.sk)).toEqual(['INCIDENT', 'RESPONSE#1', 'RESPONSE#2']);
    const byIndex = await send(world, 'dynamodb', 'Query', {
      IndexName: 'byResponseId',
      KeyConditionExpression: 'responseId = :r',
      ExpressionAttributeValues: { ':r': 'r2' },
    });
    expect(byIndex.Items).toEqual([{ pk: 'inc-1', sk: 'RESPONSE#2', responseId: 'r2' }]);
    const err = await rejectionOf(send(world, 'dynamodb', 'Query', { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)', ExpressionAttributeValues: {} }));
    expect(err.message).toBe('FakeAws: key condition pk = :pk AND begins_with(sk, :s) not modelled');
  });
});
