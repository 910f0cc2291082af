import { useState } from 'preact/hooks';
import { agent } from '../../api/agent.js';
import { Brand } from './Brand.js';
import { useFocusOnMount } from '../../lib/focus.js';

/** Log in, or register a new account (the password typed twice). */
export function LoginScreen({ message, entered }: { message?: string | undefined; entered: () => void }) {
  const first = useFocusOnMount<HTMLInputElement>();
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (login.trim() === '' || password === '') return setError('Type your login and your password.');
    if (mode === 'register' && password !== again) return setError('The two passwords differ; type the same one twice.');
    setBusy(true);
    try {
      if (mode === 'login') await agent.login(login.trim(), password);
      else await agent.register(login.trim(), password);
      setPassword('');
      setAgain('');
      entered();
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  const registering = mode === 'register';
  return (
    <main class="center" id="login-screen">
      <Brand />
      <form class="card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <h1 id="login-title">{registering ? 'Create an account' : 'Log in'}</h1>
        {message && !error ? (
          <p class="notice info" role="status">
            {message}
          </p>
        ) : null}
        <label for="login">Login</label>
        <input id="login" name="login" autoComplete="username" value={login} onInput={(e) => setLogin(e.currentTarget.value)} ref={first} required />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete={registering ? 'new-password' : 'current-password'}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          required
        />
        {registering ? (
          <>
            <label for="password-again">Password again</label>
            <input id="password-again" type="password" autoComplete="new-password" value={again} onInput={(e) => setAgain(e.currentTarget.value)} required />
          </>
        ) : null}
        <p class="notice error" role="alert" id="login-error">
          {error}
        </p>
        <button type="submit" class="primary" disabled={busy}>
          {registering ? 'Create the account' : 'Log in'}
        </button>
        <button
          type="button"
          class="link"
          onClick={() => {
            setMode(registering ? 'login' : 'register');
            setError(null);
          }}
        >
          {registering ? 'I have an account: log in' : 'New here? Create an account'}
        </button>
      </form>
    </main>
  );
}
