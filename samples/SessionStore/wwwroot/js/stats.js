// The statistics page: polls /stats/data every second and draws the last two minutes on a <canvas>.
// A static file (no inline script), so the page works under the shop's Content-Security-Policy.
(() => {
    const series = [
        { key: 'hits', color: '#1f8f4e' },
        { key: 'misses', color: '#c2362b' },
        { key: 'loads', color: '#2456d6' },
        { key: 'evictions', color: '#8a4fd0' },
        { key: 'providerErrors', color: '#d97706' },
    ];
    const statusClass = s => 'status-' + String(s).toLowerCase();
    const pct = r => r === null || r === undefined ? '–' : (r * 100).toFixed(1) + ' %';
    const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; };
    const fill = (id, rows) => {
        const body = document.querySelector('#' + id + ' tbody');
        body.replaceChildren(...rows.map(cells => { const tr = document.createElement('tr'); tr.append(...cells); return tr; }));
    };
    const cacheLabel = name => ({ 'distributed': 'sessions (IDistributedCache)', 'distributed@anonymous-sessions': 'anonymous sessions (IDistributedCache)' })[name] ?? name;

    function draw(samples) {
        const canvas = document.getElementById('chart');
        const ctx = canvas.getContext('2d');
        const w = canvas.width, h = canvas.height, left = 48, bottom = 22, top = 10;
        ctx.clearRect(0, 0, w, h);
        const max = Math.max(1, ...samples.flatMap(s => series.map(x => s[x.key])));
        const magnitude = Math.pow(10, Math.floor(Math.log10(max)));
        const ceiling = [1, 2, 5, 10].map(m => m * magnitude).find(c => c >= max);
        ctx.font = '12px system-ui, sans-serif';
        ctx.strokeStyle = '#dfe3ec'; ctx.fillStyle = '#5b6478'; ctx.lineWidth = 1;
        for (let i = 0; i <= 4; i++) {
            const y = top + (h - top - bottom) * i / 4;
            ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(w, y); ctx.stroke();
            ctx.fillText(String(Math.round(ceiling * (4 - i) / 4)), 4, y + 4);
        }
        const capacity = 120, step = (w - left) / (capacity - 1);
        const x = i => left + (capacity - samples.length + i) * step;
        const y = v => top + (h - top - bottom) * (1 - v / ceiling);
        ctx.fillText('-2 min', left, h - 4); ctx.fillText('now', w - 28, h - 4);
        for (const s of series) {
            ctx.strokeStyle = s.color; ctx.lineWidth = 2; ctx.beginPath();
            samples.forEach((p, i) => i === 0 ? ctx.moveTo(x(i), y(p[s.key])) : ctx.lineTo(x(i), y(p[s.key])));
            ctx.stroke();
        }
        canvas.dataset.points = String(samples.length);
        canvas.dataset.total = String(samples.reduce((t, p) => t + p.hits + p.misses + p.loads, 0));
    }

    async function refresh() {
        const status = document.getElementById('health-status');
        try {
            const response = await fetch('/stats/data', { cache: 'no-store', credentials: 'same-origin' });
            if (!response.ok) {
                status.textContent = response.status === 503 ? 'session store not answering' : 'HTTP ' + response.status;
                status.className = 'medium status-unhealthy';
                return;
            }
            const d = await response.json();
            document.getElementById('instance').textContent = d.instance;
            document.getElementById('provider').textContent = d.provider;
            document.getElementById('database').textContent = d.database;
            document.getElementById('hit-ratio').textContent = pct(d.hitRatio);
            document.getElementById('hits').textContent = d.hits;
            document.getElementById('misses').textContent = d.misses;
            document.getElementById('loads').textContent = d.loads;
            document.getElementById('orders').textContent = d.orders;
            status.textContent = d.health.status; status.className = 'medium ' + statusClass(d.health.status);
            fill('caches', d.caches.map(c => [cell(cacheLabel(c.name)), cell(c.hits, 'num'), cell(c.misses, 'num'), cell(c.loads, 'num'), cell(pct(c.hitRatio), 'num'), cell(c.evictions, 'num'), cell(c.providerErrors, 'num')]));
            const reasons = Object.entries(d.evictions);
            fill('evictions', reasons.length ? reasons.map(([r, n]) => [cell(r), cell(n, 'num')]) : [[cell('none yet'), cell('0', 'num')]]);
            fill('health', d.health.checks.map(c => [cell(c.name), cell(c.status, statusClass(c.status)), cell(c.description ?? ''), cell(Object.entries(c.data ?? {}).map(([k, v]) => k + ' = ' + v).join(', '))]));
            draw(d.samples);
        } catch (e) {
            status.textContent = 'unreachable';
            status.className = 'medium status-unhealthy';
        }
    }
    refresh();
    setInterval(refresh, 1000);
})();
