import { expect } from 'chai';
import { loginKey, parseLoginInput, parseRegisterInput } from '../../../src/server/auth/credentials.js';

function problem(input: unknown) {
  const result = parseRegisterInput(input);
  if (result.ok) throw new Error('expected the input to be refused');
  return result.problem;
}

describe('auth credentials', () => {
  describe('register input', () => {
    it('accepts a good login and password, trimming the login but not the password', () => {
      const result = parseRegisterInput({ login: '  Alice.Smith@home-1_x ', password: ' correct horse ' });
      expect(result).to.deep.equal({ ok: true, value: { login: 'Alice.Smith@home-1_x', password: ' correct horse ', clientId: '' } });
    });

    it('refuses a login that is too short or too long (after trimming)', () => {
      expect(problem({ login: ' ab ', password: 'long enough pw' })).to.deep.equal({
        field: 'login',
        message: 'login: must be at least 3 characters',
      });
      expect(parseRegisterInput({ login: 'abc', password: 'long enough pw' }).ok).to.equal(true);
      expect(parseRegisterInput({ login: 'a'.repeat(64), password: 'long enough pw' }).ok).to.equal(true);
      expect(problem({ login: 'a'.repeat(65), password: 'long enough pw' })).to.deep.equal({
        field: 'login',
        message: 'login: must be at most 64 characters',
      });
    });

    it('refuses characters other than letters, digits and . _ @ -', () => {
      for (const login of ['has space', 'semi;colon', 'plus+sign', 'ünïcode', 'tab\tin']) {
        const p = problem({ login, password: 'long enough pw' });
        expect(p.field, login).to.equal('login');
        expect(p.message).to.equal('login: may contain only letters, digits and the characters . _ @ -');
      }
    });

    it('refuses a missing or non-string login or password, naming the field', () => {
      expect(problem({ password: 'long enough pw' })).to.deep.equal({ field: 'login', message: 'login: is required and must be a string' });
      expect(problem({ login: 'alice', password: 42 })).to.deep.equal({
        field: 'password',
        message: 'password: is required and must be a string',
      });
      expect(problem(null).message).to.match(/^request: /);
    });

    it('counts the password length in UTF-8 bytes: at least 10', () => {
      const p = problem({ login: 'alice', password: 'short1234' });
      expect(p.field).to.equal('password');
      expect(p.message).to.match(/^password: must be at least 10 bytes/);
      // five two-byte characters are ten bytes
      expect(parseRegisterInput({ login: 'alice', password: 'éèêëà' }).ok).to.equal(true);
    });

    it('refuses a password over 72 UTF-8 bytes and says that bcrypt would cut it', () => {
      expect(parseRegisterInput({ login: 'alice', password: 'ab'.repeat(36) }).ok).to.equal(true);
      const ascii = problem({ login: 'alice', password: 'ab'.repeat(36) + 'c' });
      expect(ascii.field).to.equal('password');
      expect(ascii.message).to.match(/^password: must be at most 72 bytes/).and.to.include('bcrypt');
      // 36 characters, 72 bytes: fine; one more character (73 bytes) is too long
      expect(parseRegisterInput({ login: 'alice', password: 'üé'.repeat(18) }).ok).to.equal(true);
      expect(problem({ login: 'alice', password: 'üé'.repeat(18) + 'x' }).message).to.match(/^password: must be at most 72 bytes/);
    });

    it('refuses a password that is one character repeated', () => {
      expect(problem({ login: 'alice', password: 'aaaaaaaaaaaa' })).to.deep.equal({
        field: 'password',
        message: 'password: must not be one character repeated',
      });
      expect(problem({ login: 'alice', password: '😀'.repeat(5) }).message).to.equal('password: must not be one character repeated');
    });

    it('refuses a password equal to the login, in any case', () => {
      expect(problem({ login: 'alice.smith', password: 'alice.smith' })).to.deep.equal({
        field: 'password',
        message: 'password: must not be the same as the login',
      });
      expect(problem({ login: ' Alice.Smith ', password: 'aLICE.sMITH' }).field).to.equal('password');
    });

    it('reports login problems before password problems', () => {
      expect(problem({ login: 'x', password: 'y' }).field).to.equal('login');
    });
  });

  describe('login input', () => {
    it('checks only bounds, so anything an account could have gets through', () => {
      expect(parseLoginInput({ login: 'ab', password: 'x' })).to.deep.equal({ ok: true, value: { login: 'ab', password: 'x', clientId: '' } });
      expect(parseLoginInput({ login: 'weird chars!', password: 'aaaaaaaaaa' }).ok).to.equal(true);
    });

    it('refuses empty and oversized values, naming the field', () => {
      const cases: [unknown, string][] = [
        [{ login: '   ', password: 'whatever12' }, 'login'],
        [{ login: 'a'.repeat(65), password: 'whatever12' }, 'login'],
        [{ login: 'alice', password: '' }, 'password'],
        [{ login: 'alice', password: 'x'.repeat(73) }, 'password'],
      ];
      for (const [input, field] of cases) {
        const result = parseLoginInput(input);
        expect(result.ok).to.equal(false);
        if (!result.ok) {
          expect(result.problem.field).to.equal(field);
          expect(result.problem.message.startsWith(`${field}: `)).to.equal(true);
        }
      }
    });
  });

  it('compares logins trimmed and lower-cased', () => {
    expect(loginKey('  Alice@Example.COM ')).to.equal('alice@example.com');
  });
});
