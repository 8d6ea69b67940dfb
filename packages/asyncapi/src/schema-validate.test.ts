import { expect, it } from 'vitest'
import { validateValue } from './schema-validate.js'

const schema = {
  type: 'object',
  properties: { room: { type: 'string', pattern: '^[a-z]+$', maxLength: 4 }, n: { type: 'integer', minimum: 1 }, tags: { type: 'array', items: { enum: ['a', 'b'] }, uniqueItems: true } },
  required: ['room'],
  additionalProperties: false,
}

it.each([
  [{ room: 'abc' }, 'yes'],
  [{ room: 'abc', n: 2, tags: ['a', 'b'] }, 'yes'],
  [{ room: 'ABC' }, 'no'],
  [{ room: 'abcde' }, 'no'],
  [{ n: 1 }, 'no'],
  [{ room: 'a', n: 1.5 }, 'no'],
  [{ room: 'a', n: 0 }, 'no'],
  [{ room: 'a', tags: ['a', 'a'] }, 'no'],
  [{ room: 'a', tags: ['c'] }, 'no'],
  [{ room: 'a', extra: 1 }, 'no'],
  ['abc', 'no'],
] as const)('validateValue(%j) is %s', (value, expected) => {
  expect(validateValue(value, schema, schema)).toBe(expected)
})

it('answers maybe for keywords it does not check, and follows $ref', () => {
  expect(validateValue('a@b.c', { type: 'string', format: 'email' }, {})).toBe('maybe')
  const root = { definitions: { S: { type: 'string' } }, $ref: '#/definitions/S' }
  expect(validateValue('x', root, root)).toBe('yes')
  expect(validateValue(1, root, root)).toBe('no')
  expect(validateValue(1, { oneOf: [{ type: 'number' }, { type: 'integer' }] }, {})).toBe('no')
  expect(validateValue(1.5, { oneOf: [{ type: 'number' }, { type: 'integer' }] }, {})).toBe('yes')
})
