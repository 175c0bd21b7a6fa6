// Quick exit, as GOV.UK's "Exit this page" does it: a button on every page, and
// Escape pressed three times, hide the page at once and replace it with a neutral
// site. `location.replace` swaps this page's history entry, so Back does not bring
// the group up again. The tab's place in the room is kept (in session storage, for
// this tab only): coming back deliberately is still possible.

/** Somewhere nobody would think twice about. */
export const NEUTRAL_SITE = 'https://www.bbc.co.uk/weather';

/** Three presses of Escape within this long leave the page. */
const PRESSES = 3;
const WINDOW_MS = 2000;

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
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.repeat) return;
    const now = Date.now();
    presses = presses.filter((t) => now - t < WINDOW_MS);
    presses.push(now);
    if (presses.length >= PRESSES) quickExit();
  }, true);
}
