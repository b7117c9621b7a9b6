(function(){
  var rows = JSON.parse(document.getElementById('figures-data').textContent);
  var cols = JSON.parse(document.getElementById('figures-columns').textContent);
  var tbody = document.querySelector('#figures tbody');
  var count = document.getElementById('count');
  var search = document.getElementById('search');
  var sortKey = null, sortDir = 1;
  function cell(row, key){
    var td = document.createElement('td');
    if (key === 'source') {
      var a = document.createElement('a');
      var url = row.url || '';
      if (/^https?:\/\//i.test(url)) { a.href = url; a.rel = 'noopener noreferrer'; }
      a.textContent = row.source_title || row.source_id;
      td.appendChild(a);
    } else {
      var v = row[key];
      if (typeof v === 'number') {
        td.textContent = v.toLocaleString('en-US', {maximumFractionDigits: 3});
        td.className = 'num';
      } else {
        td.textContent = (v === null || v === undefined) ? '' : String(v);
      }
    }
    return td;
  }
  function render(){
    var q = search.value.trim().toLowerCase();
    var shown = rows.filter(function(r){ return !q || r._text.indexOf(q) !== -1; });
    if (sortKey) shown.sort(function(a, b){
      var x = a[sortKey], y = b[sortKey];
      if (x === y) return 0; if (x === null) return 1; if (y === null) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    var frag = document.createDocumentFragment();
    shown.forEach(function(r){
      var tr = document.createElement('tr');
      cols.forEach(function(c){ tr.appendChild(cell(r, c[0])); });
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
    count.textContent = shown.length + ' of ' + rows.length + ' figures';
  }
  rows.forEach(function(r){
    r._text = cols.map(function(c){ return r[c[0]] === null ? '' : String(r[c[0]]); }).join(' ').toLowerCase()
      + ' ' + String(r.source_title || '').toLowerCase();
  });
  document.querySelectorAll('#figures th').forEach(function(th){
    th.addEventListener('click', function(){
      var key = th.getAttribute('data-key');
      sortDir = (sortKey === key) ? -sortDir : 1; sortKey = key; render();
    });
  });
  search.addEventListener('input', render);
  render();
})();
