import { describe, expect, it } from 'vitest';
import { elevenProofValid, luhnValid, nirKeyValid } from './checksums.js';

describe('check digits', () => {
  it.each([
    ['4111111111111111', true],
    ['378282246310005', true],
    ['79927398713', true], // the textbook Luhn example
    ['4111111111111112', false],
    ['79927398710', false],
    ['', false],
  ])('Luhn of %s is %s', (digits, valid) => {
    expect(luhnValid(digits)).toBe(valid);
  });

  it.each([
    ['111222333', true],
    ['123456782', true],
    ['111222334', false],
    ['000000000', false], // passes the arithmetic but is never issued
    ['12345678', false],
  ])('11-proof of %s is %s', (digits, valid) => {
    expect(elevenProofValid(digits)).toBe(valid);
  });

  it.each([
    ['1841276451089', '46', true],
    ['290052A004123', '52', true], // 2A counts as 19
    ['290052B004123', '79', true], // 2B counts as 18
    ['290052A004123', '79', false],
    ['1841276451089', '45', false],
  ])('NIR %s with key %s is %s', (body, key, valid) => {
    expect(nirKeyValid(body, key)).toBe(valid);
  });
});
