import { describe, expect, it } from 'vitest';
import { ConsoleRouter } from '../../src/demo/console-router.js';

/* The demo terminal's routing: reads go to a door's card reader or QR scanner; other text goes nowhere. */

const doors = [{ id: 'front', name: 'Front entrance' }, { id: 'orion', name: 'Room Orion' }];
const token = `LT2.${'a'.repeat(62)}`;

describe('ConsoleRouter', () => {
  it('sends card numbers (any notation a reader emits) to the current door card reader', () => {
    const r = new ConsoleRouter(doors);
    expect(r.route('1001')).toEqual({ to: 'card', doorId: 'front', text: '1001' });
    expect(r.route(' 04:A2:3B:1C ')).toEqual({ to: 'card', doorId: 'front', text: '04:A2:3B:1C' });
  });

  it('sends /scan payloads and pasted member tokens to the QR scanner, and nothing else', () => {
    const r = new ConsoleRouter(doors);
    expect(r.route('/scan V7K2-99QX')).toEqual({ to: 'qr', doorId: 'front', text: 'V7K2-99QX' });
    expect(r.route(token)).toEqual({ to: 'qr', doorId: 'front', text: token });
    expect(r.route('hello')).toEqual({ to: 'none', message: '"hello" is not a card number, not sent; type a card number (e.g. 1001), or /help' });
    expect(r.route('V7K2-99QX')).toMatchObject({ to: 'none', message: expect.stringContaining('/scan V7K2-99QX') });
    expect(r.route('/scan')).toMatchObject({ to: 'none' });
    expect(r.route('')).toEqual({ to: 'none', message: null });
  });

  it('picks the door with /door (by id or name) or for one line with @door; commands pass through', () => {
    const r = new ConsoleRouter(doors);
    expect(r.route('@orion 1001')).toEqual({ to: 'card', doorId: 'orion', text: '1001' });
    expect(r.route('@Orion /scan V7K2-99QX')).toEqual({ to: 'qr', doorId: 'orion', text: 'V7K2-99QX' });
    expect(r.door).toBe('front');
    expect(r.route('/door room orion')).toMatchObject({ to: 'none' });
    expect(r.door).toBe('orion');
    expect(r.route('/door cellar')).toEqual({ to: 'none', message: 'no door "cellar"; doors: front, orion' });
    expect(r.door).toBe('orion');
    expect(r.route('/book li@example.com 30')).toEqual({ to: 'command', line: '/book li@example.com 30' });
    expect(r.route('/doorbell')).toEqual({ to: 'command', line: '/doorbell' });
  });
});
