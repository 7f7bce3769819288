// Pieces for statements built at run time (filters, keyset conditions): every value is still a
// bound parameter, and LIKE patterns escape their wildcards.
#pragma once

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <soci/soci.h>

#include "store/database.hpp"

namespace ikigai::store {

// Values bound to a dynamically built statement; deques keep their addresses stable.
struct Binds {
  std::deque<std::string> strings;
  std::deque<long long> numbers;
  std::vector<std::pair<bool, std::size_t>> order;  // (is_string, index); placeholder :p<position+1>
  std::deque<std::string> names;

  std::string Add(std::string v) {
    strings.push_back(std::move(v));
    order.emplace_back(true, strings.size() - 1);
    return Placeholder();
  }
  std::string Add(long long v) {
    numbers.push_back(v);
    order.emplace_back(false, numbers.size() - 1);
    return Placeholder();
  }
  std::string Placeholder() const {
    std::string p(":p");
    p += std::to_string(order.size());
    return p;
  }
  // Binds by name: the placeholders' order in the text need not match the order of Add calls.
  void Bind(soci::statement& st) {
    for (std::size_t n = 0; n < order.size(); ++n) {
      std::string name(1, 'p');  // (not "p" + to_string: GCC 12 -Wrestrict false positive)
      name += std::to_string(n + 1);
      names.push_back(std::move(name));
      const auto [is_string, i] = order[n];
      if (is_string) {
        st.exchange(soci::use(strings[i], names.back()));
      } else {
        st.exchange(soci::use(numbers[i], names.back()));
      }
    }
  }
};

// '!' escapes LIKE wildcards: a backslash would need escaping itself in MariaDB string literals.
inline std::string EscapeLike(const std::string& q) {
  std::string out;
  for (char ch : q) {
    if (ch == '%' || ch == '_' || ch == '!') out.push_back('!');
    out.push_back(ch);
  }
  return out;
}

// Prepares a statement built at run time: `st` has its into() exchanges already; the binds are
// added and the text prepared, ready to execute.
inline void PrepareDynamic(soci::statement& st, Binds& binds, const std::string& text) {
  binds.Bind(st);
  st.alloc();
  st.prepare(text);
  st.define_and_bind();
}

// The first column of every row of a statement built at run time, as text.
inline std::vector<std::string> SelectTexts(Connection& c, Binds& binds, const std::string& text) {
  std::vector<std::string> out;
  std::string value;
  soci::statement st(c.Sql());
  st.exchange(soci::into(value));
  PrepareDynamic(st, binds, text);
  st.execute();
  while (st.fetch()) out.push_back(value);
  return out;
}

}  // namespace ikigai::store
