// Quick exit, as GOV.UK's "Exit this page" does it: a button on every page, and
// Shift pressed three times on its own, hide the page at once and replace it with a
// neutral site. Not Escape: Escape is how keyboard users close dialogs and menus, and
// a facilitator closing three of them must stay in the room. A Shift pressed with
// another key (a capital letter, Shift+Tab) is not a press, and any other key starts
// the count again, so typing never leaves. `location.replace` swaps this page's
// history entry, so Back does not bring the group up again; the directory's links
// into a room replace their entry too (app.js), so no page of the tab's history names
// a group. The tab's place in the room is kept (in session storage, for this tab
// only): coming back deliberately is still possible.

/** Somewhere nobody would think twice about. */
export const NEUTRAL_SITE = 'https://www.bbc.co.uk/weather';

/** Three presses of Shift on its own within this long leave the page. */
const PRESSES = 3;
const WINDOW_MS = 5000;

export function quickExit() {
  // Gone from sight before the next page has even started to load.
  document.documentElement.classList.add('exiting');
  document.title = 'Weather';
  window.dispatchEvent(new Event('kindred:exit'));
  location.replace(NEUTRAL_SITE);
}

export function initQuickExit() {
  const button = document.getElementById('quick-exit');
  button?.addEventListener('click', (e) => {
    e.preventDefault();
    quickExit();
  });
  let presses = [];
  // Whether the Shift now held down has been pressed on its own so far.
  let alone = false;
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Shift') {
      if (!e.repeat) alone = true;
      return;
    }
    alone = false;
    presses = [];
  }, true);
  // Shift held while clicking (selecting text) is not a press either.
  document.addEventListener('pointerdown', () => { alone = false; }, true);
  document.addEventListener('keyup', (e) => {
    if (e.key !== 'Shift' || !alone) return;
    alone = false;
    const now = Date.now();
    presses = presses.filter((t) => now - t < WINDOW_MS);
    presses.push(now);
    if (presses.length >= PRESSES) quickExit();
  }, true);
}
